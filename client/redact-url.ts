/**
 * A URL for printing: the user name kept (which role connects), the password and any secret query
 * parameter shown as `***`. Used for the database URLs of the start banner and of configuration
 * errors. Pure.
 */

/** Query parameters of a PostgreSQL URL that hold a secret. */
const SECRET_PARAMS = /^(password|sslpassword|passfile)$/i;

/**
 * `url` without its secrets. Parsed, so a password holding `@` or `:` is hidden whole; text that is
 * no URL shows nothing of what may be its userinfo.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/^([^/]*\/\/)[^/?#]*@/, '$1***@');
  }
  if (u.password !== '') u.password = '***';
  for (const key of [...u.searchParams.keys()]) if (SECRET_PARAMS.test(key)) u.searchParams.set(key, '***');
  return u.href;
}
