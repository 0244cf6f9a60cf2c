#pragma once
/// @file
/// Bolt's v1 account models in `boltauth::models`, named as in Bolt's SDKs (OpenAPI schemas in brackets):
///
/// - `Profile` (`profile_view`), `UpdateProfile` (`update_profile`).
/// - `AddressInput` (`address_account`), `AddressView` (`address_view_account` plus `default`).
/// - `AccountDetails` (`account_details`), `AccountsView` (`v1_accounts_view`), `DetectAccountQuery`.
/// - `ErrorBoltApi` / `ErrorsBoltApiResponseData` (`error_bolt_api` / `errors_bolt_api_response`): the error body
///   carried by the `errors::ErrorsBoltApiResponse` exception.
///
/// The wire member `default` is a C++ keyword: its field is `default_`.
///
/// Parsing follows the OpenAPI schemas, where no response member is required: an absent (or null, several are
/// nullable) member leaves the field's default (empty string, false, empty list). The exceptions are an address's
/// `id` and `has_bolt_account`, without which the answer means nothing. A member of the wrong type makes the whole
/// body invalid (nullopt). Unknown members (`metadata`...) are ignored.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace boltauth::models {

/// OpenAPI `profile_view`: the shopper's profile as Bolt answers it.
struct Profile {
  std::string first_name;
  std::string last_name;
  std::string email;
  std::optional<std::string> phone;  ///< E.164
  std::optional<std::string> name;   ///< "first last"
  bool operator==(const Profile&) const = default;
};

/// OpenAPI `update_profile`: only the fields that are set are sent (and changed).
struct UpdateProfile {
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  bool operator==(const UpdateProfile&) const = default;
};

/// OpenAPI `address_account`: an address to add, edit or replace. The plain strings are required by Bolt; the
/// optionals are sent only when set.
struct AddressInput {
  std::string first_name;
  std::string last_name;
  std::string street_address1;
  std::string locality;
  std::string region;
  std::string postal_code;
  std::string country_code;  ///< ISO 3166-1 alpha-2
  std::string email;
  std::optional<std::string> company;
  std::optional<std::string> street_address2;
  std::optional<std::string> street_address3;
  std::optional<std::string> street_address4;
  std::optional<std::string> name;
  std::optional<std::string> region_code;  ///< ISO 3166-2
  std::optional<std::string> country;
  std::optional<std::string> door_code;
  std::optional<std::string> phone;  ///< E.164
  std::optional<bool> default_;      ///< wire `default`: true makes it the default shipping address
  bool operator==(const AddressInput&) const = default;
};

/// OpenAPI `address_view_account` with `default`: a stored address. Same names as AddressInput, except that the
/// email is `email_address` and the phone `phone_number` (as Bolt answers).
struct AddressView {
  std::string id;
  bool default_ = false;  ///< wire `default`
  std::string first_name;
  std::string last_name;
  std::string street_address1;
  std::string locality;
  std::string region;
  std::string postal_code;
  std::string country_code;
  std::string email_address;
  std::optional<std::string> company;
  std::optional<std::string> street_address2;
  std::optional<std::string> street_address3;
  std::optional<std::string> street_address4;
  std::optional<std::string> name;
  std::optional<std::string> region_code;
  std::optional<std::string> country;
  std::optional<std::string> door_code;
  std::optional<std::string> phone_number;
  std::optional<std::string> priority;  ///< "primary" or "listed" when Bolt sends it
  bool operator==(const AddressView&) const = default;
};

/// OpenAPI `account_details`: `GET /v1/account`.
struct AccountDetails {
  bool has_bolt_account = false;
  Profile profile;
  std::vector<AddressView> addresses;
  /// Saved cards and PayPal accounts, kept as the JSON Bolt sent (boltauth keeps no wallet: always empty).
  boost::json::array payment_methods;
  bool operator==(const AccountDetails&) const = default;
};

/// OpenAPI `v1_accounts_view`: `GET /v1/account/exists`.
struct AccountsView {
  bool has_bolt_account = false;
  bool operator==(const AccountsView&) const = default;
};

/// The identifiers `detect_account` may look up; Bolt wants exactly one (none: 422).
struct DetectAccountQuery {
  std::optional<std::string> email;
  std::optional<std::string> phone;         ///< E.164
  std::optional<std::string> sha256_email;  ///< hex SHA-256 of the lower-cased email
  bool operator==(const DetectAccountQuery&) const = default;
};

/// OpenAPI `error_bolt_api`: one entry of Bolt's error list.
struct ErrorBoltApi {
  std::int64_t code = 0;
  std::string message;
  bool operator==(const ErrorBoltApi&) const = default;
};

/// OpenAPI `errors_bolt_api_response`: `{"errors":[{"code":..,"message":".."}],"result":{"success":false}}`.
struct ErrorsBoltApiResponseData {
  std::vector<ErrorBoltApi> errors;
  std::optional<bool> success;  ///< `result.success`; always false when sent
  bool operator==(const ErrorsBoltApiResponseData&) const = default;
};

// JSON codecs. Requests: only the fields that are set. Responses: see the file comment; nullopt when not the model.
boost::json::object to_json(const UpdateProfile& v);
boost::json::object to_json(const AddressInput& v);
boost::json::object to_json(const Profile& v);
boost::json::object to_json(const AddressView& v);
boost::json::object to_json(const AccountDetails& v);
boost::json::object to_json(const AccountsView& v);
boost::json::object to_json(const ErrorsBoltApiResponseData& v);
std::optional<Profile> profile_from_json(const boost::json::value& v);
std::optional<AddressView> address_view_from_json(const boost::json::value& v);
std::optional<AccountDetails> account_details_from_json(const boost::json::value& v);
std::optional<AccountsView> accounts_view_from_json(const boost::json::value& v);
/// Requires an `errors` array (an object without it is not Bolt's error body).
std::optional<ErrorsBoltApiResponseData> errors_bolt_api_response_from_json(const boost::json::value& v);

}  // namespace boltauth::models
