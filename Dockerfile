# syntax=docker/dockerfile:1
# Tollgate gateway image: the gateway bundled by esbuild into one ESM file, run by Node 22 as a non-root user.
# Built by the DataPlane construct as a CDK asset (linux/arm64 by default), or by hand:
#   docker build --platform linux/arm64 -t tollgate-gateway .

FROM node:22-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the root `prepare` builds the control panel, which the gateway image does not need.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN node scripts/bundle-gateway.mjs /out/gateway.mjs

FROM node:22-slim AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    PORT=8787 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=root:root /out/ /app/
# The only writable paths under a read-only root file system: the telemetry spool (TOLLGATE_SPOOL_DIR)
# and /tmp. Declared as volumes so ECS/Fargate bind mounts start from these owners and modes.
RUN mkdir -p /var/lib/tollgate/spool && chown -R node:node /var/lib/tollgate
VOLUME ["/var/lib/tollgate", "/tmp"]
USER node
EXPOSE 8787
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/v1/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "/app/gateway.mjs"]
