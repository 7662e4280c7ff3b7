/** The HTML pages that Plex Media Server and the proxies in front of it answer with. */
import http from 'node:http';

export const UNAUTHORIZED_HTML =
  '<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>';
export const NOT_FOUND_HTML =
  '<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>';
/** What a reverse proxy (nginx) answers for paths it does not forward to the server. */
export const PROXY_NOT_FOUND_HTML =
  '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
/** What an authenticating reverse proxy answers in place of the API when its session is gone. */
export const PROXY_LOGIN_HTML = [
  '<!DOCTYPE html>',
  '<html lang="en">',
  '<head><meta charset="utf-8"><title>Sign in</title></head>',
  '<body>',
  '<form method="post" action="/auth/login">',
  '<h1>Sign in to continue</h1>',
  '<label>Username <input name="username" autocomplete="username"></label>',
  '<label>Password <input name="password" type="password"></label>',
  '<button type="submit">Sign in</button>',
  '</form>',
  '</body>',
  '</html>',
  '',
].join('\n');

/** The server's error page for a status. */
export function statusHtml(status: number): string {
  if (status === 401) return UNAUTHORIZED_HTML;
  if (status === 404) return NOT_FOUND_HTML;
  const text = http.STATUS_CODES[status] ?? 'Error';
  return `<html><head><title>${text}</title></head><body><h1>${status} ${text}</h1></body></html>`;
}
