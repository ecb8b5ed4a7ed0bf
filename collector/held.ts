import type { MemoryPoint } from '../storage/types.js';
import type { JobMessage } from './job-messages.js';

/** The points the scheduler holds in memory after a run, and the oldest it let go of to keep within its bound. */
export interface Held {
  readonly points: readonly MemoryPoint[];
  readonly dropped: number;
}

/**
 * What the scheduler holds after a run's message: nothing once a run reports (it
 * stored or spooled what it was handed), else what the run could not save, the
 * newest `maxPoints` of it (the spool's own bound). A failure before the run had
 * anything in hand (its sample unreadable) hands back what it was given.
 */
export function heldAfter(message: JobMessage, maxPoints: number): Held {
  if (message.type === 'report') return { points: [], dropped: 0 };
  const dropped = Math.max(0, message.unsaved.length - maxPoints);
  return { points: message.unsaved.slice(dropped), dropped };
}
