# A container with everything the project needs: Debian 12 (bookworm), Swift 6, OpenBLAS, libpng,
# zlib. Builds the package in release and runs the test suite by default.
#
#   docker build -t iml .
#   docker run --rm iml                                   # the test suite (scripts/test.sh)
#   docker run --rm -v "$PWD/results:/src/results" iml scripts/run-mnist.sh --quick
#
# MNIST is downloaded into data/mnist/ on first use; mount a copy to skip that:
#   docker run --rm -v /path/to/mnist:/src/data/mnist:ro -e MNIST_DIR=/src/data/mnist iml
FROM swift:6.2-bookworm

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libopenblas-dev libpng-dev zlib1g-dev pkg-config git \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN swift build -c release
CMD ["bash", "scripts/test.sh"]
