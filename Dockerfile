# wamp-authd: build with the dev toolchain, run on a slim Node 24 image as a non-root user.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
# A small young generation: with thousands of cached session rules V8's default semi-spaces grow the
# RSS by ~100 MB of mostly empty space (README, Benchmarks: row 5s).
ENV NODE_OPTIONS=--max-semi-space-size=2
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY migrations ./migrations
COPY examples ./examples
USER node
# /healthz, /readyz, /metrics
EXPOSE 9464
ENV AUTHD_HTTP_PORT=9464 AUTHD_HTTP_HOST=0.0.0.0
HEALTHCHECK --interval=10s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:9464/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
