# The project's own services (notification sink, sample targets, apps, and those to come) in
# one image: Debian's python3.11 and its standard library, plus a virtualenv with alertdrill
# and its runtime dependencies. The wheels come from a wheelhouse `make images` fills on the
# host (pinned to the host environment's versions); this build reaches no network.
ARG BASE
FROM ${BASE} AS runtime
ADD rootfs.tar /
ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1

FROM runtime AS install
LABEL alertdrill.stage=install
COPY wheels/ /tmp/wheels/
RUN ["/usr/bin/python3.11", "-m", "venv", "--without-pip", "/opt/alertdrill"]
# pip runs straight from its wheel (`set --` finds its file name), so the image carries no pip.
RUN set -- /tmp/wheels/pip-*.whl \
 && /opt/alertdrill/bin/python "$1/pip" install --no-index \
      --find-links /tmp/wheels --no-cache-dir --disable-pip-version-check --quiet alertdrill
# Every compiled module of every wheel must find its libraries here (ldd looked at the host's
# files only): load each one now, so a missing library fails the build, not a drill.
RUN ["/opt/alertdrill/bin/python", "-c", "import ctypes, pathlib; [ctypes.CDLL(str(p)) for p in pathlib.Path('/opt/alertdrill').rglob('*.so')]"]
RUN ["/opt/alertdrill/bin/python", "-c", "import alertdrill.sink, alertdrill.targets.app, alertdrill.targets.sample, alertdrill.targets.series"]

# Only the virtualenv leaves the install stage: no wheelhouse in any layer.
FROM runtime
COPY --from=install /opt/alertdrill /opt/alertdrill
ENV PATH=/opt/alertdrill/bin:/usr/local/bin:/usr/bin:/bin
USER alertdrill
WORKDIR /home/alertdrill
# The Docker backend passes the whole command, e.g.
#   python -m alertdrill.sink --http 0.0.0.0:8080 --smtp 0.0.0.0:2525
CMD ["python", "-m", "alertdrill.sink", "--help"]
