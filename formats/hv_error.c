/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "formats/hv_error.h"

G_DEFINE_QUARK(hv-error-quark, hv_error)
