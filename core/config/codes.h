// Stable codes of configuration findings; docs/analyze.md lists them with examples.
#pragma once

namespace ambit::config::codes {

// Loading
inline constexpr const char* kFileError = "AMB0001";        // unreadable, too large, not text
inline constexpr const char* kYamlSyntax = "AMB0002";       // not well-formed YAML
inline constexpr const char* kBadDocument = "AMB0003";      // not an object, no kind, no name
inline constexpr const char* kUnknownVersion = "AMB0004";   // known kind, version not served
inline constexpr const char* kUnsupportedKind = "AMB0005";  // an Istio kind Ambit ignores
inline constexpr const char* kSchema = "AMB0006";           // unknown field, wrong type, bad enum
inline constexpr const char* kLimit = "AMB0007";            // too many nodes or too deep

// Validation of one object
inline constexpr const char* kInvalidValue = "AMB0100";

// Analysis across objects
inline constexpr const char* kSubsetNotFound = "AMB0101";
inline constexpr const char* kDestinationRuleNotFound = "AMB0102";
inline constexpr const char* kHostNotFound = "AMB0103";
inline constexpr const char* kGatewayNotFound = "AMB0104";
inline constexpr const char* kConflictingDestinationRules = "AMB0105";
inline constexpr const char* kL7PolicyWithoutWaypoint = "AMB0106";
inline constexpr const char* kNamespaceNotAmbient = "AMB0107";
inline constexpr const char* kUnsupportedEnvoyFilter = "AMB0108";
inline constexpr const char* kDuplicateObject = "AMB0109";

}  // namespace ambit::config::codes
