// VirtualService HTTP route rules: each row is a spec and every issue it must produce.
#include "test/core/config/validate/validate_test_util.h"

namespace ambit::config::validate::testing {
namespace {

void check(const std::vector<Case>& cases) {
  checkCases("networking.istio.io/v1", "VirtualService", cases);
}

TEST_CASE("virtual service route actions", "[validate][virtual-service]") {
  check({
      {"hosts: [a]\nhttp: [{match: [{uri: {prefix: /}}]}]",
       {"error spec.http[0]: one of route, redirect, directResponse or delegate is required"}},
      {"hosts: [a]\nhttp: [{redirect: {uri: /b}, route: [{destination: {host: a}}]}]",
       {"error spec.http[0].route: route and redirect cannot both be set"}},
      {"hosts: [a]\nhttp: [{redirect: {uri: /b}, fault: {abort: {httpStatus: 500}}}]",
       {"error spec.http[0].fault: fault and redirect cannot both be set"}},
      {"hosts: [a]\nhttp: [{redirect: {uri: /b}, rewrite: {uri: /c}}]",
       {"error spec.http[0].rewrite: rewrite and redirect cannot both be set"}},
      {"hosts: [a]\nhttp: [{redirect: {uri: /b}, directResponse: {status: 200}}]",
       {"error spec.http[0].directResponse: directResponse and redirect cannot both be set"}},
      {"hosts: [a]\nhttp: [{directResponse: {status: 200}, route: [{destination: {host: a}}]}]",
       {"error spec.http[0].route: route and directResponse cannot both be set"}},
      {"hosts: [a]\nhttp: [{directResponse: {status: 503}, fault: {delay: {fixedDelay: 1s}}}]",
       {"error spec.http[0].fault: fault and directResponse cannot both be set"}},
      {"hosts: [a]\nhttp: [{directResponse: {status: 200}, rewrite: {uri: /x}}]",
       {"error spec.http[0].rewrite: rewrite and directResponse cannot both be set"}},
      {"hosts: [a]\nhttp: [{delegate: {name: d}, route: [{destination: {host: a}}]}]",
       {"error spec.http[0].route: a route that delegates must not set route"}},
      {"hosts: [a]\nhttp: [{delegate: {name: d}, redirect: {uri: /b}}]",
       {"error spec.http[0].redirect: a route that delegates must not set redirect"}},
      {"hosts: [a]\nhttp: [{delegate: {namespace: shop}}]",
       {"error spec.http[0].delegate.name: delegate name is required"}},
      {"hosts: [a]\nhttp: [{delegate: {name: Routes_1, namespace: Shop}}]",
       {"error spec.http[0].delegate.name: delegate name \"Routes_1\" is not a valid object name",
        "error spec.http[0].delegate.namespace: delegate namespace \"Shop\" is not a namespace "
        "name"}},
      {"http: [{delegate: {name: d}, route: [{destination: {host: a}}]}]",
       {"error spec.http[0].delegate: a delegate virtual service cannot delegate again"}},
      {"hosts: [a]\nhttp: [{route: [{destination: {host: a}}], mirror: {host: b}, mirrors: "
       "[{destination: {host: c}}]}]",
       {"error spec.http[0].mirrors: mirror and mirrors cannot both be set"}},
      {"hosts: [a]\nhttp: [{redirect: {}}]",
       {"error spec.http[0].redirect: redirect needs at least one of uri, prefixRewrite, "
        "authority, scheme, port or derivePort"}},
      {"hosts: [a]\nhttp: [{redirect: {uri: /a, prefixRewrite: /b}}]",
       {"error spec.http[0].redirect.prefixRewrite: uri and prefixRewrite cannot both be set"}},
      {"hosts: [a]\nhttp: [{match: [{uri: {exact: /a}}], redirect: {prefixRewrite: /b}}]",
       {"error spec.http[0].redirect.prefixRewrite: prefixRewrite needs every uri match of the "
        "route to be a prefix match"}},
      {"hosts: [a]\nhttp: [{redirect: {uri: /b, redirectCode: 200}}]",
       {"error spec.http[0].redirect.redirectCode: redirectCode must be between 300 and 399, got "
        "200"}},
      {"hosts: [a]\nhttp: [{redirect: {scheme: ftp}}]",
       {"error spec.http[0].redirect.scheme: scheme must be \"http\" or \"https\", got \"ftp\""}},
      {"hosts: [a]\nhttp: [{redirect: {port: 70000}}]",
       {"error spec.http[0].redirect.port: port must be between 1 and 65535, got 70000"}},
      {"hosts: [a]\nhttp: [{redirect: {derivePort: FROM_REQUEST_PORT}}]", {}},
      {"hosts: [a]\nhttp: [{directResponse: {status: 700}}]",
       {"error spec.http[0].directResponse.status: status must be between 200 and 599, got 700"}},
      {"hosts: [a]\nhttp: [{rewrite: {}, route: [{destination: {host: a}}]}]",
       {"error spec.http[0].rewrite: rewrite needs at least one of uri, uriRegexRewrite or "
        "authority"}},
      {"hosts: [a]\nhttp: [{rewrite: {uri: /a, uriRegexRewrite: {match: a, rewrite: b}}, route: "
       "[{destination: {host: a}}]}]",
       {"error spec.http[0].rewrite.uriRegexRewrite: uri and uriRegexRewrite cannot both be set"}},
      {"hosts: [a]\nhttp: [{rewrite: {uriRegexRewrite: {rewrite: b}}, route: [{destination: "
       "{host: a}}]}]",
       {"error spec.http[0].rewrite.uriRegexRewrite.match: match is required"}},
      {"hosts: [a]\nhttp: [{rewrite: {uriRegexRewrite: {match: \"a(b\"}}, route: [{destination: "
       "{host: a}}]}]",
       {"error spec.http[0].rewrite.uriRegexRewrite.match: regex \"a(b\" does not compile: "
        "missing ): a(b",
        "error spec.http[0].rewrite.uriRegexRewrite.rewrite: rewrite is required"}},
      {R"yaml(hosts: [a]
http:
- rewrite: {authority: b}
  headers:
    request:
      set: {host: c}
  route: [{destination: {host: a}}]
)yaml",
       {"error spec.http[0].headers: the authority is rewritten more than once "
        "(rewrite.authority and \"host\" or \":authority\" headers); set it in one place"}},
  });
}

TEST_CASE("virtual service matches", "[validate][virtual-service]") {
  check({
      {"hosts: [a]\nhttp: [{match: [{uri: {regex: \"a(b\"}}], route: [{destination: {host: "
       "a}}]}]",
       {"error spec.http[0].match[0].uri.regex: regex \"a(b\" does not compile: missing ): a(b"}},
      {"hosts: [a]\nhttp: [{match: [{uri: {regex: \"\"}}], route: [{destination: {host: a}}]}]",
       {"error spec.http[0].match[0].uri.regex: regex must not be empty"}},
      {"hosts: [a]\nhttp: [{match: [{uri: {prefix: \"\"}}], route: [{destination: {host: a}}]}]",
       {}},
      {"hosts: [a]\nhttp: [{match: [{uri: {}}], route: [{destination: {host: a}}]}]",
       {"warning spec.http[0].match[0].uri: no match type is set, so this matches everything; "
        "set one of exact, prefix or regex"}},
      {"hosts: [a]\nhttp: [{match: [{method: {prefix: \"\"}}], route: [{destination: {host: "
       "a}}]}]",
       {"error spec.http[0].match[0].method.prefix: prefix must not be empty"}},
      {"hosts: [a]\nhttp: [{match: [{scheme: {regex: \"[\"}}], route: [{destination: {host: "
       "a}}]}]",
       {"error spec.http[0].match[0].scheme.regex: regex \"[\" does not compile: missing ]: ["}},
      {"hosts: [a]\nhttp: [{match: [{authority: {prefix: \"\"}}], route: [{destination: {host: "
       "a}}]}]",
       {"error spec.http[0].match[0].authority.prefix: prefix must not be empty"}},
      {"hosts: [a]\nhttp: [{match: [{headers: {x-a: {prefix: \"\"}}}], route: [{destination: "
       "{host: a}}]}]",
       {"error spec.http[0].match[0].headers.x-a.prefix: prefix must not be empty"}},
      {"hosts: [a]\nhttp: [{match: [{headers: {\"\": {exact: x}}}], route: [{destination: {host: "
       "a}}]}]",
       {"error spec.http[0].match[0].headers[\"\"]: header name must not be empty"}},
      {"hosts: [a]\nhttp: [{match: [{headers: {\"x y\": {exact: x}}}], route: [{destination: "
       "{host: a}}]}]",
       {"error spec.http[0].match[0].headers[\"x y\"]: header name \"x y\" is not a valid HTTP "
        "header name"}},
      {"hosts: [a]\nhttp: [{match: [{headers: {User-Agent: {prefix: Mozilla}}}], route: "
       "[{destination: {host: a}}]}]",
       {"warning spec.http[0].match[0].headers.User-Agent: header name \"User-Agent\" should be "
        "lowercase: \"user-agent\""}},
      {"hosts: [a]\nhttp: [{match: [{headers: {\":authority\": {exact: a}}}], route: "
       "[{destination: {host: a}}]}]",
       {}},
      {"hosts: [a]\nhttp: [{match: [{withoutHeaders: {x-a: {regex: \"(\"}}}], route: "
       "[{destination: {host: a}}]}]",
       {"error spec.http[0].match[0].withoutHeaders.x-a.regex: regex \"(\" does not compile: "
        "missing ): ("}},
      {"hosts: [a]\nhttp: [{match: [{queryParams: {v: {regex: \"*\"}}}], route: [{destination: "
       "{host: a}}]}]",
       {"error spec.http[0].match[0].queryParams.v.regex: regex \"*\" does not compile: no "
        "argument for repetition operator: *"}},
      {"hosts: [a]\nhttp: [{match: [{port: 0}], route: [{destination: {host: a}}]}]", {}},
      {"hosts: [a]\nhttp: [{match: [{port: 99999}], route: [{destination: {host: a}}]}]",
       {"error spec.http[0].match[0].port: port must be between 1 and 65535, got 99999"}},
      {"hosts: [a]\nhttp: [{match: [{sourceLabels: {\"-app\": x}}], route: [{destination: {host: "
       "a}}]}]",
       {"error spec.http[0].match[0].sourceLabels.-app: label key \"-app\" is invalid: it must "
        "consist of letters, digits, '-', '_' or '.', starting and ending with a letter or "
        "digit"}},
      {"hosts: [a]\nhttp: [{match: [{sourceNamespace: \"my ns\"}], route: [{destination: {host: "
       "a}}]}]",
       {"error spec.http[0].match[0].sourceNamespace: sourceNamespace \"my ns\" is not a "
        "namespace name"}},
      {"hosts: [a]\nhttp: [{match: [{gateways: [\"/gw\"]}], route: [{destination: {host: a}}]}]",
       {"error spec.http[0].match[0].gateways[0]: gateway \"/gw\" is invalid: expected "
        "namespace/name with both parts set"}},
  });
}

TEST_CASE("virtual service timeouts, retries, faults, mirrors and CORS",
          "[validate][virtual-service]") {
  const std::string route = "  route: [{destination: {host: a}}]\n";
  check({
      {"hosts: [a]\nhttp:\n- timeout: 0s\n" + route,
       {"error spec.http[0].timeout: timeout must be at least 1ms, got 0s"}},
      {"hosts: [a]\nhttp:\n- timeout: 1500us\n" + route,
       {"error spec.http[0].timeout: timeout must be a whole number of milliseconds, got "
        "1500us"}},
      {"hosts: [a]\nhttp:\n- retries: {attempts: -1}\n" + route,
       {"error spec.http[0].retries.attempts: attempts must not be negative, got -1"}},
      {"hosts: [a]\nhttp:\n- retries: {attempts: 0, retryOn: 5xx}\n" + route,
       {"error spec.http[0].retries.attempts: attempts is 0, which disables retries, yet "
        "perTryTimeout, retryOn or retryRemoteLocalities is set"}},
      {"hosts: [a]\nhttp:\n- retries: {attempts: 0}\n" + route, {}},
      {"hosts: [a]\nhttp:\n- retries: {attempts: 2, perTryTimeout: 0s}\n" + route,
       {"error spec.http[0].retries.perTryTimeout: perTryTimeout must be at least 1ms, got 0s"}},
      {"hosts: [a]\nhttp:\n- retries: {attempts: 2, backoff: 0.5ms}\n" + route,
       {"error spec.http[0].retries.backoff: backoff must be at least 1ms, got 500us"}},
      {"hosts: [a]\nhttp:\n- retries: {attempts: 2, retryOn: \"5xx,bogus\"}\n" + route,
       {"error spec.http[0].retries.retryOn: retryOn policy \"bogus\" is unknown; expected an "
        "HTTP status code or one of 5xx, gateway-error, reset, reset-before-request, "
        "connect-failure, envoy-ratelimited, retriable-4xx, refused-stream, "
        "retriable-status-codes, retriable-headers, http3-post-connect-failure, cancelled, "
        "deadline-exceeded, internal, resource-exhausted, unavailable"}},
      {"hosts: [a]\nhttp:\n- retries: {attempts: 2, retryOn: \"5xx,\"}\n" + route,
       {"error spec.http[0].retries.retryOn: retryOn policy \"\" is unknown; expected an HTTP "
        "status code or one of 5xx, gateway-error, reset, reset-before-request, connect-failure, "
        "envoy-ratelimited, retriable-4xx, refused-stream, retriable-status-codes, "
        "retriable-headers, http3-post-connect-failure, cancelled, deadline-exceeded, internal, "
        "resource-exhausted, unavailable"}},
      {"hosts: [a]\nhttp:\n- retries: {attempts: 2, retryOn: \"envoy-ratelimited,429,cancelled,"
       "unavailable,http3-post-connect-failure\"}\n" +
           route,
       {}},
      {"hosts: [a]\nhttp:\n- fault: {}\n" + route,
       {"error spec.http[0].fault: fault needs a delay, an abort or both"}},
      {"hosts: [a]\nhttp:\n- fault: {delay: {percentage: {value: 10}}}\n" + route,
       {"error spec.http[0].fault.delay: delay needs fixedDelay"}},
      {"hosts: [a]\nhttp:\n- fault: {delay: {fixedDelay: 0s}}\n" + route,
       {"error spec.http[0].fault.delay.fixedDelay: fixedDelay must be at least 1ms, got 0s"}},
      {"hosts: [a]\nhttp:\n- fault: {delay: {fixedDelay: 1s, percentage: {value: 150}}}\n" + route,
       {"error spec.http[0].fault.delay.percentage.value: percentage must be between 0 and 100, "
        "got 150"}},
      {"hosts: [a]\nhttp:\n- fault: {delay: {fixedDelay: 1s, percentage: {value: 0.00001}}}\n" +
           route,
       {"error spec.http[0].fault.delay.percentage.value: percentage must be 0 or at least "
        "0.0001, got 1e-05"}},
      {"hosts: [a]\nhttp:\n- fault: {delay: {fixedDelay: 1s, percent: 101}}\n" + route,
       {"error spec.http[0].fault.delay.percent: percent must be between 0 and 100, got 101"}},
      {"hosts: [a]\nhttp:\n- fault: {delay: {exponentialDelay: 1s}}\n" + route,
       {"error spec.http[0].fault.delay.exponentialDelay: exponentialDelay is not supported"}},
      {"hosts: [a]\nhttp:\n- fault: {abort: {percentage: {value: 5}}}\n" + route,
       {"error spec.http[0].fault.abort: abort needs httpStatus or grpcStatus"}},
      {"hosts: [a]\nhttp:\n- fault: {abort: {httpStatus: 600}}\n" + route,
       {"error spec.http[0].fault.abort.httpStatus: httpStatus must be between 200 and 599, got "
        "600"}},
      {"hosts: [a]\nhttp:\n- fault: {abort: {httpStatus: 503, percentage: {value: -1}}}\n" + route,
       {"error spec.http[0].fault.abort.percentage.value: percentage must be between 0 and 100, "
        "got -1"}},
      {"hosts: [a]\nhttp:\n- fault: {abort: {grpcStatus: \"14\"}}\n" + route,
       {"error spec.http[0].fault.abort.grpcStatus: grpcStatus \"14\" is not a gRPC status name "
        "such as UNAVAILABLE or NOT_FOUND"}},
      {"hosts: [a]\nhttp:\n- fault: {abort: {http2Error: REFUSED_STREAM}}\n" + route,
       {"error spec.http[0].fault.abort.http2Error: http2Error aborts are not supported"}},
      {"hosts: [a]\nhttp:\n- mirrorPercentage: {value: 101}\n" + route,
       {"error spec.http[0].mirrorPercentage.value: mirror percentage must be between 0 and 100, "
        "got 101"}},
      {"hosts: [a]\nhttp:\n- mirrorPercent: 50\n" + route,
       {"warning spec.http[0].mirrorPercent: mirrorPercent is deprecated; use mirrorPercentage"}},
      {"hosts: [a]\nhttp:\n- mirrorPercent: 150\n" + route,
       {"error spec.http[0].mirrorPercent: mirrorPercent must be between 0 and 100, got 150",
        "warning spec.http[0].mirrorPercent: mirrorPercent is deprecated; use "
        "mirrorPercentage"}},
      {"hosts: [a]\nhttp:\n- mirror: {host: \"*\"}\n" + route,
       {"error spec.http[0].mirror.host: host \"*\" is not allowed in a destination"}},
      {"hosts: [a]\nhttp:\n- mirrors: [{percentage: {value: 5}}]\n" + route,
       {"error spec.http[0].mirrors[0].destination: destination is required"}},
      {"hosts: [a]\nhttp:\n- mirrors: [{destination: {host: b}, percentage: {value: -5}}]\n" +
           route,
       {"error spec.http[0].mirrors[0].percentage.value: mirror percentage must be between 0 and "
        "100, got -5"}},
      {"hosts: [a]\nhttp:\n- corsPolicy: {allowOrigins: [{exact: \"\"}]}\n" + route,
       {"error spec.http[0].corsPolicy.allowOrigins[0].exact: exact must not be empty"}},
      {"hosts: [a]\nhttp:\n- corsPolicy: {allowOrigins: [{}]}\n" + route,
       {"error spec.http[0].corsPolicy.allowOrigins[0]: one of exact, prefix or regex is "
        "required"}},
      {"hosts: [a]\nhttp:\n- corsPolicy: {allowOrigins: [{regex: \"(\"}]}\n" + route,
       {"error spec.http[0].corsPolicy.allowOrigins[0].regex: regex \"(\" does not compile: "
        "missing ): ("}},
      {"hosts: [a]\nhttp:\n- corsPolicy: {allowMethods: [get]}\n" + route,
       {"error spec.http[0].corsPolicy.allowMethods[0]: method \"get\" is not a supported HTTP "
        "method"}},
      {"hosts: [a]\nhttp:\n- corsPolicy: {allowHeaders: [\"x y\"], exposeHeaders: [\"\"]}\n" +
           route,
       {"error spec.http[0].corsPolicy.allowHeaders[0]: header name \"x y\" is not a valid HTTP "
        "header name",
        "error spec.http[0].corsPolicy.exposeHeaders[0]: header name must not be empty"}},
      {"hosts: [a]\nhttp:\n- corsPolicy: {maxAge: 1500ms}\n" + route,
       {"error spec.http[0].corsPolicy.maxAge: maxAge must be a whole number of seconds"}},
  });
}

TEST_CASE("virtual service header operations", "[validate][virtual-service]") {
  check({
      {R"yaml(hosts: [a]
http:
- headers:
    request:
      set: {":path": /x}
      remove: [host]
    response:
      add: {":status": "200"}
  route: [{destination: {host: a}}]
)yaml",
       {"error spec.http[0].headers.request.set[\":path\"]: header \":path\" cannot be modified: "
        "names starting with \":\" are reserved",
        "error spec.http[0].headers.request.remove[0]: header \"host\" cannot be modified here; "
        "use rewrite.authority",
        "error spec.http[0].headers.response.add[\":status\"]: header \":status\" cannot be "
        "modified: names starting with \":\" are reserved"}},
      {R"yaml(hosts: [a]
http:
- route:
  - destination: {host: a}
    headers:
      request:
        add: {"": x}
      response:
        set: {x-a: "bad\u0001value"}
)yaml",
       {"error spec.http[0].route[0].headers.request.add[\"\"]: header name must not be empty",
        "error spec.http[0].route[0].headers.response.set.x-a: header value \"bad\\x01value\" "
        "contains control characters"}},
  });
}

}  // namespace
}  // namespace ambit::config::validate::testing
