#pragma once
/// @file
/// Everything of the boltauth C++ SDK.
#include "boltauth/account_models.hpp"
#include "boltauth/bolt.hpp"
#include "boltauth/errors.hpp"
#include "boltauth/http.hpp"
#include "boltauth/id_token_verifier.hpp"
#include "boltauth/models.hpp"
#include "boltauth/retry.hpp"
#include "boltauth/token_manager.hpp"
