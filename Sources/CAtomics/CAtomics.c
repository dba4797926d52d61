// Header-only module (include/CAtomics.h); SwiftPM wants one source file in a C target.
#include "CAtomics.h"
