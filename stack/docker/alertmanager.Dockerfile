# Alertmanager and amtool from Debian's `prometheus-alertmanager` (binary renamed back to
# /bin/alertmanager as in prom/alertmanager), with Debian's template files, which its build
# reads from /usr/share/prometheus/alertmanager, and a default config that routes nowhere.
ARG BASE
FROM ${BASE}
ADD rootfs.tar /
USER nobody
WORKDIR /alertmanager
# 9093: web and API; 9094: cluster gossip (TCP and UDP).
EXPOSE 9093 9094 9094/udp
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
