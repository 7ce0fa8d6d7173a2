# Debian's prometheus-postgres-exporter as /bin/postgres_exporter (the upstream image's path).
# Give it DATA_SOURCE_NAME, e.g. postgresql://postgres@postgres:5432/postgres?sslmode=disable.
ARG BASE
FROM ${BASE}
ADD rootfs.tar /
USER nobody
EXPOSE 9187
ENTRYPOINT ["/bin/postgres_exporter"]
