/**
 * Targets that answer garbage, for the bad-input tests: each binds 127.0.0.1 on port 0 and is closed
 * by its handle. Every kind stands for a real failure a probe may meet in production: a proxy's HTML
 * error page where JSON is expected, a 500 page, a 200 whose body never ends, a connection closed
 * without a reply or reset, a TLS port that speaks something else, and a host that accepts and then
 * never answers.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type GarbageKind = 'html-everywhere' | 'http-500' | 'endless-body' | 'empty-reply' | 'connection-reset' | 'truncated-tls' | 'never-answers';

export interface GarbageServer {
  kind: GarbageKind;
  port: number;
  /** host:port */
  hostPort: string;
  /** How many connections the server accepted (proves the probe reached it). */
  connections(): number;
  close(): Promise<void>;
}

const HTML_PAGE = '<!doctype html><html><head><title>Welcome to nginx!</title></head><body><h1>It works</h1></body></html>\n';
const ERROR_PAGE = '<!doctype html><html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>\n';

function httpServer(kind: 'html-everywhere' | 'http-500'): Server {
  return createHttpServer((request, response) => {
    request.resume();
    const body = kind === 'html-everywhere' ? HTML_PAGE : ERROR_PAGE;
    response.writeHead(kind === 'html-everywhere' ? 200 : 500, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
}

/** 200 text/html, then filler forever (with backpressure) until the client goes away. */
function endlessServer(): Server {
  const chunk = Buffer.alloc(64 * 1024, 'garbage ');
  return createHttpServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    const pump = () => {
      while (!response.destroyed && response.write(chunk));
    };
    response.on('drain', pump);
    response.on('error', () => undefined);
    pump();
  });
}

function tcpServer(kind: 'empty-reply' | 'connection-reset' | 'truncated-tls' | 'never-answers'): Server {
  return createNetServer((socket) => {
    socket.on('error', () => undefined);
    switch (kind) {
      case 'empty-reply':
        // Read the request, then close without a single byte of reply.
        socket.once('data', () => socket.end());
        return;
      case 'connection-reset':
        socket.once('data', () => socket.resetAndDestroy());
        return;
      case 'truncated-tls':
        // A ClientHello arrives; answer a few bytes that are no TLS record, then close.
        socket.once('data', () => socket.end(Buffer.from('\x16\x03\x01\x00garbage', 'latin1')));
        return;
      case 'never-answers':
        // Accept, read, never write: only the caller's deadline ends this.
        socket.resume();
        return;
    }
  });
}

export async function startGarbageServer(kind: GarbageKind): Promise<GarbageServer> {
  const server = kind === 'html-everywhere' || kind === 'http-500' ? httpServer(kind) : kind === 'endless-body' ? endlessServer() : tcpServer(kind);
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return {
    kind,
    port,
    hostPort: `127.0.0.1:${port}`,
    connections: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
