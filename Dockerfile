# The Gatehouse image: the worker (default command) and the Slack approvals app
# (`node --import tsx approvals/slack/main.ts`). Sources run through tsx, so there is no build step;
# tsx is a runtime dependency and survives `--omit=dev`.
FROM node:24.12.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24.12.0-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# Runs unprivileged; nothing under /app is written at run time.
USER node
# Configuration comes only from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
# GATEHOUSE_TASK_QUEUE, DATABASE_URL, GATEHOUSE_PRODUCTION_DATABASE_URL, SLACK_*, and the keys:
# GATEHOUSE_KEYS (the keyset file, required by the worker), GATEHOUSE_ENV=production (refuses
# development keys), GATEHOUSE_SLACK_SIGNING_KEY (the approvals app's key file). Mount key files
# as secrets; never bake them into the image.
CMD ["node", "--import", "tsx", "worker/main.ts"]
