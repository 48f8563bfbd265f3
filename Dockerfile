# kubetrail: Node 24 running the TypeScript source directly (no build step), as a non-root user.
# Works with a read-only root filesystem: the only writes go to /data (the repository) and /tmp.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
WORKDIR /app
# jemalloc instead of glibc's malloc: glibc keeps the memory a burst of buffers freed (packing loose objects, a
# first list) inside its heap, behind whatever was allocated after it, and a watch or a daemon grew by it for
# hours; jemalloc gives freed pages back within a second (dirty_decay_ms) from two arenas (narenas, as glibc's
# MALLOC_ARENA_MAX=2 did): ~25 MB less RSS for a 50k-object watch, flat (bench/README.md "Watch mode").
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    LD_PRELOAD=libjemalloc.so.2 \
    MALLOC_CONF=narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0 \
    HOME=/tmp \
    KUBETRAIL_CONFIG=/etc/kubetrail/kubetrail.yaml \
    KUBETRAIL_REPO=/data/repo \
    NODE_COMPILE_CACHE=/app/.compile-cache
COPY --from=deps /app/node_modules ./node_modules
COPY package.json LICENSE ./
COPY src ./src
# Node's compile cache (stripped TypeScript and compiled code of every module), filled now with the ENTRYPOINT's
# flags (Node keeps one cache per set of V8 flags) and read at every start from the read-only image: a CronJob
# run's start-up costs about half, and no process loads Node's TypeScript stripper (src/runtime/fill-compile-cache.ts).
RUN node --max-semi-space-size=8 --heap-growing-percent=50 src/runtime/fill-compile-cache.ts
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# A small young generation, and an old generation grown by half its live size rather than by V8's speed-based
# factor: garbage of each page is collected early instead of growing the heap (README, bench/README.md).
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "/app/src/cli.ts"]
CMD ["sync", "--push"]
