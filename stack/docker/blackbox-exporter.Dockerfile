# Debian's prometheus-blackbox-exporter as /bin/blackbox_exporter, with a default module file
# at prom/blackbox-exporter's path. ICMP probes would need CAP_NET_RAW; the drills probe HTTP,
# TLS and TCP only.
ARG BASE
FROM ${BASE}
ADD rootfs.tar /
USER nobody
EXPOSE 9115
ENTRYPOINT ["/bin/blackbox_exporter"]
CMD ["--config.file=/etc/blackbox_exporter/config.yml"]
