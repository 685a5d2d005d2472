// Errors the operations raise for users: the message is what the user (or containerd, reading the
// last JSON error line of --log) sees, so it says what failed, where and why.

export class ContainerError extends Error {
  constructor(
    message: string,
    /** process exit code for the CLI */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'ContainerError';
  }
}

export function notExist(id: string): ContainerError {
  return new ContainerError(`container ${id} does not exist`);
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
