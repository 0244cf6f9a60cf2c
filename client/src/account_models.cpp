#include "boltauth/account_models.hpp"

#include <climits>
#include <utility>

namespace boltauth::models {
namespace json = boost::json;
namespace {

void put(json::object& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[key] = *v;
}
void put(json::object& o, std::string_view key, const std::optional<bool>& v) {
  if (v) o[key] = *v;
}

// Readers of one member: true when absent or null (the field keeps its default), false when of the wrong type.
bool get(const json::object& o, std::string_view key, std::string& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return false;
  out = std::string(v->as_string());
  return true;
}
bool get(const json::object& o, std::string_view key, std::optional<std::string>& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_string()) return false;
  out = std::string(v->as_string());
  return true;
}
bool get(const json::object& o, std::string_view key, bool& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (!v->is_bool()) return false;
  out = v->as_bool();
  return true;
}
bool get(const json::object& o, std::string_view key, std::int64_t& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return true;
  if (v->is_int64()) {
    out = v->as_int64();
    return true;
  }
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(v->as_uint64());
    return true;
  }
  return false;
}
// A member that must be there.
bool get_required(const json::object& o, std::string_view key, std::string& out) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() && get(o, key, out);
}
bool get_required(const json::object& o, std::string_view key, bool& out) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && get(o, key, out);
}

}  // namespace

json::object to_json(const UpdateProfile& v) {
  json::object o;
  put(o, "first_name", v.first_name);
  put(o, "last_name", v.last_name);
  return o;
}

json::object to_json(const AddressInput& v) {
  json::object o;
  o["first_name"] = v.first_name;
  o["last_name"] = v.last_name;
  put(o, "company", v.company);
  o["street_address1"] = v.street_address1;
  put(o, "street_address2", v.street_address2);
  put(o, "street_address3", v.street_address3);
  put(o, "street_address4", v.street_address4);
  o["locality"] = v.locality;
  o["region"] = v.region;
  put(o, "region_code", v.region_code);
  o["postal_code"] = v.postal_code;
  o["country_code"] = v.country_code;
  put(o, "country", v.country);
  put(o, "name", v.name);
  put(o, "door_code", v.door_code);
  o["email"] = v.email;
  put(o, "phone", v.phone);
  put(o, "default", v.default_);
  return o;
}

json::object to_json(const Profile& v) {
  json::object o;
  o["first_name"] = v.first_name;
  o["last_name"] = v.last_name;
  o["email"] = v.email;
  put(o, "phone", v.phone);
  put(o, "name", v.name);
  return o;
}

json::object to_json(const AddressView& v) {
  json::object o;
  o["id"] = v.id;
  o["default"] = v.default_;
  o["first_name"] = v.first_name;
  o["last_name"] = v.last_name;
  put(o, "company", v.company);
  o["street_address1"] = v.street_address1;
  put(o, "street_address2", v.street_address2);
  put(o, "street_address3", v.street_address3);
  put(o, "street_address4", v.street_address4);
  o["locality"] = v.locality;
  o["region"] = v.region;
  put(o, "region_code", v.region_code);
  o["postal_code"] = v.postal_code;
  o["country_code"] = v.country_code;
  put(o, "country", v.country);
  put(o, "name", v.name);
  put(o, "door_code", v.door_code);
  o["email_address"] = v.email_address;
  put(o, "phone_number", v.phone_number);
  put(o, "priority", v.priority);
  return o;
}

json::object to_json(const AccountDetails& v) {
  json::object o;
  o["has_bolt_account"] = v.has_bolt_account;
  o["profile"] = to_json(v.profile);
  json::array addresses;
  for (const auto& a : v.addresses) addresses.push_back(to_json(a));
  o["addresses"] = std::move(addresses);
  o["payment_methods"] = v.payment_methods;
  return o;
}

json::object to_json(const AccountsView& v) {
  json::object o;
  o["has_bolt_account"] = v.has_bolt_account;
  return o;
}

json::object to_json(const ErrorsBoltApiResponseData& v) {
  json::array errors;
  for (const auto& e : v.errors) errors.push_back(json::object{{"code", e.code}, {"message", e.message}});
  json::object o;
  o["errors"] = std::move(errors);
  if (v.success) o["result"] = json::object{{"success", *v.success}};
  return o;
}

std::optional<Profile> profile_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  Profile p;
  if (!get(o, "first_name", p.first_name) || !get(o, "last_name", p.last_name) || !get(o, "email", p.email) ||
      !get(o, "phone", p.phone) || !get(o, "name", p.name))
    return std::nullopt;
  return p;
}

std::optional<AddressView> address_view_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  AddressView a;
  if (!get_required(o, "id", a.id) || !get(o, "default", a.default_) || !get(o, "first_name", a.first_name) ||
      !get(o, "last_name", a.last_name) || !get(o, "company", a.company) ||
      !get(o, "street_address1", a.street_address1) || !get(o, "street_address2", a.street_address2) ||
      !get(o, "street_address3", a.street_address3) || !get(o, "street_address4", a.street_address4) ||
      !get(o, "locality", a.locality) || !get(o, "region", a.region) || !get(o, "region_code", a.region_code) ||
      !get(o, "postal_code", a.postal_code) || !get(o, "country_code", a.country_code) ||
      !get(o, "country", a.country) || !get(o, "name", a.name) || !get(o, "door_code", a.door_code) ||
      !get(o, "email_address", a.email_address) || !get(o, "phone_number", a.phone_number) ||
      !get(o, "priority", a.priority))
    return std::nullopt;
  return a;
}

std::optional<AccountDetails> account_details_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  AccountDetails d;
  if (!get_required(o, "has_bolt_account", d.has_bolt_account)) return std::nullopt;
  if (const auto* p = o.if_contains("profile"); p && !p->is_null()) {
    auto profile = profile_from_json(*p);
    if (!profile) return std::nullopt;
    d.profile = std::move(*profile);
  }
  if (const auto* list = o.if_contains("addresses"); list && !list->is_null()) {
    if (!list->is_array()) return std::nullopt;
    for (const auto& item : list->as_array()) {
      auto address = address_view_from_json(item);
      if (!address) return std::nullopt;
      d.addresses.push_back(std::move(*address));
    }
  }
  if (const auto* list = o.if_contains("payment_methods"); list && !list->is_null()) {
    if (!list->is_array()) return std::nullopt;
    d.payment_methods = list->as_array();
  }
  return d;
}

std::optional<AccountsView> accounts_view_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  AccountsView v;
  if (!get_required(value.as_object(), "has_bolt_account", v.has_bolt_account)) return std::nullopt;
  return v;
}

std::optional<ErrorsBoltApiResponseData> errors_bolt_api_response_from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  const auto* list = o.if_contains("errors");
  if (!list || !list->is_array()) return std::nullopt;
  ErrorsBoltApiResponseData d;
  for (const auto& item : list->as_array()) {
    if (!item.is_object()) return std::nullopt;
    ErrorBoltApi e;
    if (!get(item.as_object(), "code", e.code) || !get(item.as_object(), "message", e.message)) return std::nullopt;
    d.errors.push_back(std::move(e));
  }
  if (const auto* result = o.if_contains("result"); result && !result->is_null()) {
    if (!result->is_object()) return std::nullopt;
    bool success = false;
    const auto* s = result->as_object().if_contains("success");
    if (s && !s->is_null()) {
      if (!get(result->as_object(), "success", success)) return std::nullopt;
      d.success = success;
    }
  }
  return d;
}

}  // namespace boltauth::models
