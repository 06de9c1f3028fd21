/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/hv_error.h"

G_DEFINE_QUARK(hv-error-quark, hv_error)
