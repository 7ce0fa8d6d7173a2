# Debian's prometheus-node-exporter as /bin/node_exporter (prom/node-exporter's path).
# The Docker backend mounts what it must watch (e.g. one small filesystem) and passes the
# --path.* flags; without arguments it reports the container's own view.
ARG BASE
FROM ${BASE}
ADD rootfs.tar /
USER nobody
EXPOSE 9100
ENTRYPOINT ["/bin/node_exporter"]
