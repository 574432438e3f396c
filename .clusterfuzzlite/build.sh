#!/bin/bash -eu
# ClusterFuzzLite entry point: the builder sets CC, CXX, CFLAGS, CXXFLAGS,
# LIB_FUZZING_ENGINE and OUT; fuzz/build.sh does the rest.
bash "$SRC/mqttspec/fuzz/build.sh"
