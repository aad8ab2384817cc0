"""Portal-wide pieces: the request guards (undecodable input, job queue errors), the safe redirect helper,
the client address behind a trusted proxy, the health report and the Admin's sign-in lockout page."""
