# Test-harness stand-in for python:3.11-slim-bookworm, built from Debian's own python3.11.
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s /usr/bin/python3 /usr/local/bin/python
# pip inside builds must trust this machine's CA bundle; apt's ca-certificates owns the standard
# path, so the bundle gets a path of its own. Test harness only, never the project's Dockerfile.
COPY ca-certificates.crt /etc/pip-ca.crt
ENV PIP_CERT=/etc/pip-ca.crt LANG=C.UTF-8
CMD ["python3"]
