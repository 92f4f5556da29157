#ifndef FLUXBRAIN_CHIREDIS_SHIM_H
#define FLUXBRAIN_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>

#endif
