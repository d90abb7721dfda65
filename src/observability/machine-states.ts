/**
 * The machine part of `/state`: an actor's state value and status, and its
 * children's, recursively (framework → job, subscription; tasks are data in the
 * job's context, not actors, and /state lists them from the signals). Runtime code passes
 * `() => describeActors({ framework: actor })` as `getMachineStates`.
 */
import type { AnyActorRef } from 'xstate';

export interface ActorDescription {
  value?: unknown;
  status: string;
  children?: Record<string, ActorDescription>;
}

/** Deeper actors are left out (the machines nest two levels). */
const MAX_DEPTH = 4;

export function describeActors(actors: Record<string, AnyActorRef | undefined>): Record<string, ActorDescription> {
  const out: Record<string, ActorDescription> = {};
  for (const [name, actor] of Object.entries(actors)) {
    if (actor !== undefined) out[name] = describeActor(actor, MAX_DEPTH);
  }
  return out;
}

function describeActor(actor: AnyActorRef, depth: number): ActorDescription {
  const snapshot = actor.getSnapshot() as { value?: unknown; status?: unknown; children?: Record<string, AnyActorRef | undefined> };
  const description: ActorDescription = { status: typeof snapshot.status === 'string' ? snapshot.status : 'unknown' };
  if (snapshot.value !== undefined) description.value = snapshot.value;
  const children = Object.entries(snapshot.children ?? {}).filter((entry): entry is [string, AnyActorRef] => entry[1] !== undefined);
  if (children.length > 0 && depth > 1) {
    description.children = {};
    for (const [id, child] of children) description.children[id] = describeActor(child, depth - 1);
  }
  return description;
}
