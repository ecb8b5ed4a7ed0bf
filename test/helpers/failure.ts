/** What `pending` rejected with, or undefined if it resolved: for asserting on the error itself. */
export function failureOf(pending: Promise<unknown>): Promise<unknown> {
  return pending.then(
    () => undefined,
    (error: unknown) => error,
  );
}
