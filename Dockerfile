# The pipeline worker, for `docker compose up` (see docker-compose.yml). TypeScript runs through tsx,
# as on the host, so there is no separate build step to keep in sync.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Dependencies first: this layer is reused until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --chown=node:node . .
USER node
CMD ["bin/etl", "worker"]
