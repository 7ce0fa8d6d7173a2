# PostgreSQL 15 server from Debian's postgresql-15 (plus pg_isready and psql), run as the
# non-root user `postgres` (uid 999, as in the official image). JIT is left out (it would pull
# in LLVM); PostgreSQL runs without it.
ARG BASE
FROM ${BASE}
ADD rootfs.tar /
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin \
    PGDATA=/var/lib/postgresql/data
USER postgres
# One initdb at build time, so a container is ready in about a second (the local backend
# likewise copies one initdb per run). No network is needed or available here.
RUN ["initdb", "--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", \
     "--no-sync", "--no-instructions"]
# Listen on the container's network and trust it, like the official image with
# POSTGRES_HOST_AUTH_METHOD=trust: the harness's network is private to one run, and a
# published port is bound to 127.0.0.1 only.
RUN echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf" \
 && echo "host all all all trust" >> "$PGDATA/pg_hba.conf"
# SIGINT is PostgreSQL's "fast" shutdown (SIGTERM waits for every client to leave).
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
