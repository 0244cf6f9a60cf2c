#include "core/routes.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>
#include <stdexcept>
#include <vector>

namespace boltauth::core {
namespace {

using protocol::ErrorStyle;

Request req(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

RouteHandler answers(int status) {
  return [status](const Request&, const Route& route) {
    Response r;
    r.status = status;
    r.body = route.path;
    return r;
  };
}

std::string error_of(const Response& r) {
  return std::string(boost::json::parse(r.body).as_object().at("error").as_string());
}

TEST(RouteTable, DispatchesByPathToTheHandler) {
  RouteTable t;
  t.add({"/a", {"POST"}, Dialect::v1, true, answers(201)})
      .add({"/b", {"GET", "HEAD"}, Dialect::v1, false, answers(202)});
  auto a = t.dispatch(req("POST", "/a"), ErrorStyle::bolt);
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(a.body, "/a");
  EXPECT_EQ(t.dispatch(req("HEAD", "/b"), ErrorStyle::bolt).status, 202);
  EXPECT_EQ(t.routes().size(), 2u);
}

TEST(RouteTable, UnknownPathIs404AndPathsAreExact) {
  RouteTable t;
  t.add({"/a", {"POST"}, Dialect::v1, true, answers(200)});
  EXPECT_EQ(t.dispatch(req("POST", "/b"), ErrorStyle::bolt).status, 404);
  EXPECT_EQ(t.dispatch(req("POST", "/a/"), ErrorStyle::bolt).status, 404);
  EXPECT_EQ(t.dispatch(req("POST", "/A"), ErrorStyle::bolt).status, 404);
  EXPECT_EQ(t.find("/b"), nullptr);
}

TEST(RouteTable, UnknownMethodIs405WithAllowInTheRoutesDialect) {
  RouteTable t;
  t.add({"/token", {"POST"}, Dialect::v1, true, answers(200)})
      .add({"/account", {"GET", "HEAD"}, Dialect::v1, false, answers(200)})
      .add({"/page", {"GET", "POST"}, Dialect::html, false, answers(200)});
  auto token = t.dispatch(req("GET", "/token"), ErrorStyle::bolt);
  EXPECT_EQ(token.status, 405);
  EXPECT_EQ(error_of(token), "invalid_request");
  auto account = t.dispatch(req("DELETE", "/account"), ErrorStyle::bolt);
  EXPECT_EQ(account.status, 405);
  EXPECT_NE(account.body.find("\"errors\""), std::string::npos) << account.body;
  auto page = t.dispatch(req("HEAD", "/page"), ErrorStyle::bolt);
  EXPECT_EQ(page.status, 405);
  EXPECT_EQ(page.content_type.rfind("text/html", 0), 0u);
  auto allow = [](const Response& r) {
    for (const auto& [k, v] : r.headers)
      if (k == "Allow") return v;
    return std::string();
  };
  EXPECT_EQ(allow(token), "POST");
  EXPECT_EQ(allow(account), "GET, HEAD");
  EXPECT_EQ(allow(page), "GET, POST");
}

TEST(RouteTable, ARouteMayRefuseMethodsInItsOwnWords) {
  RouteTable t;
  t.add({"/u", {"GET"}, Dialect::v1, true, answers(200), answers(400)});
  EXPECT_EQ(t.dispatch(req("GET", "/u"), ErrorStyle::bolt).status, 200);
  EXPECT_EQ(t.dispatch(req("DELETE", "/u"), ErrorStyle::bolt).status, 400);
}

TEST(RouteTable, ThePathNotTheHandlerChoosesTheErrorStyle) {
  // One handler on three paths, as the token endpoint is: v1 and v3 follow the operator's setting, rfc never does.
  EXPECT_EQ(oauth_error_style(Dialect::v1, ErrorStyle::bolt), ErrorStyle::bolt);
  EXPECT_EQ(oauth_error_style(Dialect::v3, ErrorStyle::bolt), ErrorStyle::bolt);
  EXPECT_EQ(oauth_error_style(Dialect::rfc, ErrorStyle::bolt), ErrorStyle::rfc6749);
  EXPECT_EQ(oauth_error_style(Dialect::v1, ErrorStyle::rfc6749), ErrorStyle::rfc6749);
  RouteTable t;
  auto seen = std::make_shared<std::vector<Dialect>>();
  auto record = [seen](const Request&, const Route& route) {
    seen->push_back(route.dialect);
    return Response{};
  };
  t.add({"/v1/t", {"POST"}, Dialect::v1, true, record}).add({"/std/t", {"POST"}, Dialect::rfc, true, record});
  t.dispatch(req("POST", "/v1/t"), ErrorStyle::bolt);
  t.dispatch(req("POST", "/std/t"), ErrorStyle::bolt);
  EXPECT_EQ(*seen, (std::vector<Dialect>{Dialect::v1, Dialect::rfc}));
}

TEST(RouteTable, AddingAPathTwiceOrAnEmptyRouteIsAnError) {
  RouteTable t;
  t.add({"/a", {"POST"}, Dialect::v1, true, answers(200)});
  EXPECT_THROW(t.add({"/a", {"GET"}, Dialect::v3, true, answers(200)}), std::logic_error);
  EXPECT_THROW(t.add({"/b", {}, Dialect::v1, true, answers(200)}), std::logic_error);
  EXPECT_THROW(t.add({"/c", {"GET"}, Dialect::v1, true, RouteHandler{}}), std::logic_error);
}

}  // namespace
}  // namespace boltauth::core
