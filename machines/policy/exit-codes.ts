/** Process exit codes carried in FrameworkOutput.exitCode. */

/** Every task of every round ended TASK_FINISHED (or an HA handover). */
export const EXIT_OK = 0;
/** The job ended (all rounds, or a graceful stop) and some task did not finish. */
export const EXIT_TASKS_FAILED = 1;
/** The master refused us or another scheduler took our framework id (2 is bad command-line input). */
export const EXIT_FATAL = 3;
/** Stopped at once on a second signal: tasks were killed. */
export const EXIT_INTERRUPTED = 130;
