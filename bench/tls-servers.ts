/**
 * N local HTTPS (TLS) servers for the `scale` figure, in their own process so their handshakes do
 * not share the prober's event loop. Certificates from the stack's PKI helper (a CA and a
 * `localhost` leaf). Writes the CA PEM to the path given, prints `PORTS <json>`, runs until SIGTERM.
 * Usage: node --import tsx bench/tls-servers.ts <count> <ca-pem-path>
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { createCertificateAuthority, issueLeafCertificate } from '../fixtures/stack/certs.ts';

const count = Math.min(200, Math.max(1, Number(process.argv[2] ?? 1)));
const caPath = process.argv[3];
if (!caPath) {
  process.stderr.write('usage: tls-servers.ts <count> <ca-pem-path>\n');
  process.exit(2);
}
const ca = await createCertificateAuthority('bench scale CA');
const leaf = await issueLeafCertificate(ca);
writeFileSync(caPath, ca.certPem);
const servers: Server[] = [];
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = createServer({ cert: leaf.chainPem, key: leaf.keyPem }, (socket) => socket.end());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  ports.push((server.address() as { port: number }).port);
}
process.stdout.write(`PORTS ${JSON.stringify(ports)}\n`);
const stop = () => {
  for (const server of servers) server.close();
  setTimeout(() => process.exit(0), 1_000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
