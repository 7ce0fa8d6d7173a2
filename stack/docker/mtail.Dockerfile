# Debian's mtail at /usr/bin/mtail (the upstream image's path). By default it counts the lines
# of /var/log/mtail/*.log with one small program; the Docker backend mounts the app's log and
# its own programs instead (-progs DIR -logs FILE).
ARG BASE
FROM ${BASE}
ADD rootfs.tar /
USER nobody
WORKDIR /tmp
EXPOSE 3903
ENTRYPOINT ["/usr/bin/mtail"]
CMD ["-progs", "/etc/mtail", "-logs", "/var/log/mtail/*.log", "-logtostderr"]
