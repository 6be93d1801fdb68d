# The pipeline worker, for `docker compose up` (see docker-compose.yml). Built once, as on the host
# (`npm run build`: tsc into dist/ and the pre-bundled workflow code), and run from dist/: no tsx
# and no webpack when the worker starts.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# Dependencies first: this layer is reused until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# Read at run time from the checkout's layout (lib/config.ts PROJECT_ROOT): SQL migrations, dashboard files.
COPY --from=build --chown=node:node /app/migrations ./migrations
COPY --from=build --chown=node:node /app/dashboard/public ./dashboard/public
USER node
# node itself, not bin/etl (which would rebuild a stale dist/ with dev tools the image does not have);
# the flags are bin/etl's: a bounded heap for the worker, and kafkajs's harmless timer warning off.
CMD ["node", "--max-old-space-size=320", "--disable-warning=TimeoutNegativeWarning", "dist/client/main.js", "worker"]
