/**
 * Stand-alone entry for the emulator (until the main CLI wires the subcommand in):
 *   node --import tsx src/emulator/main.ts local-master --port 5050 --masters 3 --agents 2
 */
import { Command } from 'commander';
import { registerLocalMasterCommand } from '../cli/commands/local-master.js';

const program = new Command('mesos-http-scheduler');
registerLocalMasterCommand(program);
await program.parseAsync(process.argv);
