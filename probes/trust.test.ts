import { X509Certificate } from 'node:crypto';
import { checkServerIdentity } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueLeafCertificate, type CertificateAuthority, type LeafOptions } from '../fixtures/stack/certs.ts';
import { browserHostnameMismatch } from './trust.ts';

let ca: CertificateAuthority;
const certificate = async (options: LeafOptions) => new X509Certificate((await issueLeafCertificate(ca, options)).certPem);

beforeAll(async () => {
  ca = await createCertificateAuthority('Hostname Test CA');
});

describe('browserHostnameMismatch', () => {
  it('accepts a host in the SANs and a whole-label wildcard one level deep', async () => {
    const cert = await certificate({ dnsNames: ['app.example.com', '*.example.net'], ipAddresses: ['10.0.0.1'] });
    expect(browserHostnameMismatch(cert, 'app.example.com')).toBeUndefined();
    expect(browserHostnameMismatch(cert, 'auth.example.net')).toBeUndefined();
    expect(browserHostnameMismatch(cert, '10.0.0.1')).toBeUndefined();
    expect(browserHostnameMismatch(cert, 'a.b.example.net')).toBe('certificate does not cover a.b.example.net (SANs: DNS:app.example.com, DNS:*.example.net, IP Address:10.0.0.1)');
    expect(browserHostnameMismatch(cert, '10.0.0.2')).toMatch(/^certificate does not cover 10\.0\.0\.2 /);
  });

  it('refuses a partial wildcard, which Node itself accepts', async () => {
    const cert = await certificate({ dnsNames: ['f*.example.com'], ipAddresses: [] });
    expect(browserHostnameMismatch(cert, 'foo.example.com')).toBe('certificate covers foo.example.com only through the partial wildcard f*.example.com, which browsers reject');
    expect(checkServerIdentity('foo.example.com', { subject: {}, subjectaltname: 'DNS:f*.example.com' } as never)).toBeUndefined();
  });

  it('refuses a certificate without subjectAltName even when its CN names the host, which Node itself accepts', async () => {
    const cert = await certificate({ dnsNames: ['app.example.com'], commonNameOnly: true });
    expect(browserHostnameMismatch(cert, 'app.example.com')).toBe('certificate names app.example.com only in its subject CN and has no subjectAltName; browsers ignore the CN');
    expect(browserHostnameMismatch(cert, 'other.example.com')).toBe('certificate has no subjectAltName and does not cover other.example.com');
    expect(cert.checkHost('app.example.com')).toBe('app.example.com');
  });

  it('never takes an IP address from the CN', async () => {
    const cert = await certificate({ dnsNames: [], ipAddresses: ['127.0.0.1'], commonNameOnly: true });
    expect(cert.subject).toBe('CN=127.0.0.1');
    expect(browserHostnameMismatch(cert, '127.0.0.1')).toBe('certificate has no subjectAltName and does not cover 127.0.0.1');
  });
});
