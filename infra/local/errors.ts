/** A startup problem the user can fix; `npm start` prints its message on one line and exits 1. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** A service could not listen on the port it was given: another socket took it first. */
export class PortTakenError extends StartupError {
  override name = 'PortTakenError';
}
