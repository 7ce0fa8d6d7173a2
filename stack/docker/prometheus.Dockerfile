# Prometheus and promtool from Debian's `prometheus` package (the very binaries the local
# backend runs), on the base image `make images` imports (build argument BASE; no registry).
# rootfs.tar holds the binaries, the libraries they load, Debian's web UI files and a default
# config. Paths, user, port and default flags follow prom/prometheus, so the Docker backend can
# run this image or the official one with the same arguments.
ARG BASE
FROM ${BASE}
ADD rootfs.tar /
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
