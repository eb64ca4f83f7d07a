/**
 * A failure the user can fix, with a message that says how: `expose` lets the
 * CLI and the admin API show it as it is, `status` is its HTTP answer.
 */
export class UserError extends Error {
  readonly expose = true;
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
