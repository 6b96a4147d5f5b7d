# The monitor (`sentinel monitor`) as a container, e.g. a Coolify "Dockerfile" resource next to
# GadgetBot (docs/coolify-monitor.md). Node 20 on Debian bookworm with Debian's Chromium, running as
# the image's non-root `node` user. bin/build.mjs bundles the TypeScript sources into dist/ at image
# build time, so the monitor never runs them through tsx (~40 MB more per process).
FROM node:20-bookworm-slim

# chromium-headless-shell: the browser flows (Playwright drives Debian's headless shell, ~160 MB lighter
# than the full browser, see SENTINEL_CHROMIUM below);
# fonts: real glyph metrics so pages lay out as users see them; ca-certificates: https targets;
# tini: PID 1 that forwards SIGTERM and reaps the Chromium processes a browser flow leaves behind.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium-headless-shell fonts-liberation fonts-noto-color-emoji ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    SENTINEL_CHROMIUM=/usr/lib/chromium/chromium-headless-shell \
    SENTINEL_REPORTS_DIR=/app/reports \
    SENTINEL_MONITOR_LISTEN=0.0.0.0:9464
# 0.0.0.0 is right only inside a container: the bind is to the container's own network namespace,
# reachable from the Docker network Prometheus shares (never publish the port on the host). Outside a
# container keep the default 127.0.0.1:9464.

WORKDIR /app
COPY package.json package-lock.json ./
# A production install: the reference stack's packages (Better Auth, oidc-provider, embedded-postgres, the
# certificate library) are devDependencies and stay out. esbuild (the bundle below), tsx (sentinel from
# source when no bundle can be written) and @playwright/test are runtime dependencies. The packaged
# Chromium (the optional @sparticuz/chromium, 66 MB) is removed: this image runs Debian's headless shell.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force && rm -rf node_modules/@sparticuz
COPY . .
RUN node bin/build.mjs
# The code stays root-owned and read-only for the monitor; only its output folders are writable.
RUN mkdir -p reports e2e/.auth && chown -R node:node reports e2e/.auth

USER node

EXPOSE 9464

# node instead of curl (the slim image has none): /healthz on the port SENTINEL_MONITOR_LISTEN names,
# with the monitor's bearer token when one is set, 4 s deadline.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const l=process.env.SENTINEL_MONITOR_LISTEN||'0.0.0.0:9464';const t=process.env.SENTINEL_MONITOR_TOKEN;fetch('http://127.0.0.1:'+l.slice(l.lastIndexOf(':')+1)+'/healthz',{headers:t?{authorization:'Bearer '+t}:{},signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/sentinel.mjs", "monitor"]
