/**
 * `radledger serve --http-redirect-port`: a plain-HTTP listener that only redirects to the HTTPS
 * node. Every request, whatever its method, gets 308 Permanent Redirect (RFC 9110 §15.4.9: the
 * method and body are kept when the client repeats the request) to the same host, path and query
 * over https://, with Connection: close; it serves no content and reads no body (the connection
 * closes after the answer, so a body that was sent is never processed). HSTS is not sent here: RFC
 * 6797 §7.2 forbids it over plain HTTP; the HTTPS responses carry it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A Host header's host part, if it is a plain DNS name, IPv4 address or bracketed IPv6 address. */
function hostOf(header: string | undefined): string | undefined {
  const m = /^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(:[0-9]{1,5})?$/.exec(header ?? "");
  return m?.[1];
}

/** The https:// URL a plain-HTTP request is sent to. */
export function httpsLocation(
  hostHeader: string | undefined,
  target: string | undefined,
  fallbackHost: string,
  httpsPort: number,
): string {
  const host = hostOf(hostHeader) ?? (fallbackHost.includes(":") ? `[${fallbackHost}]` : fallbackHost);
  // Origin-form only (RFC 9112 §3.2.1); an absolute-form or asterisk-form target redirects to "/".
  const path = target !== undefined && target.startsWith("/") && !target.startsWith("//") ? target : "/";
  return `https://${host}${httpsPort === 443 ? "" : `:${httpsPort}`}${path}`;
}

export async function listenRedirect(
  host: string,
  port: number,
  https: AddressInfo,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    const location = httpsLocation(req.headers.host, req.url, host, https.port);
    res.writeHead(308, {
      location,
      "content-length": "0",
      connection: "close",
      "cache-control": "no-store",
    });
    res.end();
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
