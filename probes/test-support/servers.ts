/** Local servers for probe tests: always 127.0.0.1 on port 0, closed by handle. */
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';

export interface Running {
  port: number;
  url: string;
  close(): Promise<void>;
}

function listen(server: HttpServer | TlsServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closer(server: HttpServer | TlsServer): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if ('closeAllConnections' in server) server.closeAllConnections();
      server.close(() => resolve());
    });
}

export async function startHttp(handler: RequestListener): Promise<Running> {
  const server = createHttpServer(handler);
  const port = await listen(server);
  return { port, url: `http://127.0.0.1:${port}`, close: closer(server) };
}

/** A TLS server that completes the handshake and closes; records the SNI names it saw. */
export async function startTls(chainPem: string, keyPem: string): Promise<Running & { servernames: Array<string | false | null> }> {
  const servernames: Array<string | false | null> = [];
  const sockets = new Set<TLSSocket>();
  const server = createTlsServer({ cert: chainPem, key: keyPem }, (socket) => {
    servernames.push(socket.servername);
    socket.end();
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  const port = await listen(server);
  return {
    port,
    url: `127.0.0.1:${port}`,
    servernames,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, read, released). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
