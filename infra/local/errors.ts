/** A startup problem the user can fix; `npm start` prints its message on one line and exits 1. */
export class StartupError extends Error {
  override name = 'StartupError';
}
