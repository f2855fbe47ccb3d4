// Owning handles for the OpenSSL objects the JWT code creates, so that every early return frees
// them, with the deleter of core/tls (header only: nothing of ambit_tls is linked). Internal to
// waypoint/jwt.
#pragma once

#include <memory>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "core/tls/openssl_util.h"

namespace ambit::waypoint::jwt_internal {

template <auto free_fn>
using OpensslFree = tls::OpensslDeleter<free_fn>;

using BignumPtr = std::unique_ptr<BIGNUM, OpensslFree<BN_free>>;
using ParamBuildPtr = std::unique_ptr<OSSL_PARAM_BLD, OpensslFree<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OpensslFree<OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpensslFree<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslFree<EVP_MD_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpensslFree<ECDSA_SIG_free>>;

}  // namespace ambit::waypoint::jwt_internal
