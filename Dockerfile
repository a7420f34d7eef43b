# MessageAPI's container image: `docker build -t messageapi .`, then see README.md ("Running in a container").
#
# Node.js 22 LTS: supported until April 2027. Not 24, the longer-lived line: better-sqlite3 12 can
# abort the process on Node 24 (an assertion in its statement finalizer, a known upstream crash); and
# Node 20 reached its end of life in April 2026. Debian bookworm, the same release as the Debian
# packages the build stage installs.

# ---- build: compile better-sqlite3, the server (tsc) and the dashboard (vite) ----
FROM node:22-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary matches: node-gyp needs python3, make and g++.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The lockfile first, so a change to the sources alone reuses the installed (and compiled) packages.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY web ./web
COPY receivers ./receivers
RUN npm run build --silent \
 && rm -f dist/.tsbuildinfo \
 && npm prune --omit=dev --no-audit --no-fund \
 && chmod 755 bin/messageapi.js
# better-sqlite3 needs only its compiled addon at run time, not the C sources and objects (~25 MB).
RUN cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node . \
 && rm -rf build deps src \
 && mkdir -p build/Release \
 && mv better_sqlite3.node build/Release/

# ---- runtime: the built server, production packages only; no compilers, sources or tests ----
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# Owned by root and read-only to the server's user: only /data is writable.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/receivers ./receivers
# `docker exec <container> messageapi …` runs the operator CLI with the container's environment.
RUN ln -s /app/bin/messageapi.js /usr/local/bin/messageapi \
 && mkdir -p /data \
 && chown node:node /data
# The base image's unprivileged user (uid 1000).
USER node
# SQLite database, generated secret key (unless MESSAGEAPI_SECRET is set). A new named volume
# copies this directory's owner, so the server can write to it.
VOLUME /data
EXPOSE 3000
# Slim images have no curl: Node's own fetch. PORT may be changed at run time.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server handles SIGTERM itself (stops accepting, finishes in-flight requests, leaves pending
# messages in the outbox) and exits within seconds, inside `docker stop`'s 10 s default.
STOPSIGNAL SIGTERM
CMD ["node", "bin/messageapi.js", "serve"]
