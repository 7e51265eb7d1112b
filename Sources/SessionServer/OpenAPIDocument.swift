// Generated from docs/openapi.json by scripts/gen-openapi.sh; a test checks they match.
enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "sessiond",
  "version": "1.2.0",
  "description": "Distributed session store. Tokens travel only in the X-Session-Token header or a forwarded Cookie header, never in a URL. Methods a path does not list answer 405 method_not_allowed with an Allow header."
 },
 "servers": [
  {
   "url": "http://127.0.0.1:8080"
  }
 ],
 "components": {
  "securitySchemes": {
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key's secret, or an access token from POST /oauth2/token (client credentials) with the key's scopes narrowed to the token's"
   },
   "basic": {
    "type": "http",
    "scheme": "basic",
    "description": "OAuth client authentication (RFC 6749 §2.3.1): client_id = an API key's name, client_secret = its secret, each form-urlencoded before base64"
   }
  },
  "schemas": {
   "Error": {
    "type": "object",
    "required": [
     "error"
    ],
    "properties": {
     "error": {
      "type": "object",
      "required": [
       "code",
       "message"
      ],
      "properties": {
       "code": {
        "type": "string",
        "enum": [
         "invalid_request",
         "unauthorized",
         "forbidden",
         "session_not_found",
         "not_found",
         "method_not_allowed",
         "conflict",
         "version_mismatch",
         "payload_too_large",
         "unsupported_media_type",
         "store_unavailable",
         "internal_error",
         "tokens_not_configured",
         "signing_key_unavailable",
         "unsupported_grant_type",
         "invalid_scope",
         "unsupported_token_type",
         "unauthorized_client",
         "too_many_requests"
        ]
       },
       "message": {
        "type": "string"
       }
      }
     }
    }
   },
   "Metadata": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "ip": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 64,
      "description": "at most 64 characters; null is the same as absent"
     },
     "user_agent": {
      "type": [
       "string",
       "null"
      ],
      "maxLength": 512,
      "description": "at most 512 characters; null is the same as absent"
     }
    }
   },
   "Session": {
    "type": "object",
    "required": [
     "handle",
     "user_id",
     "data",
     "created_at",
     "last_seen_at",
     "idle_expires_at",
     "expires_at",
     "version",
     "metadata"
    ],
    "properties": {
     "handle": {
      "type": "string",
      "description": "Non-secret session identifier; never works as a token."
     },
     "user_id": {
      "type": "string"
     },
     "data": {
      "type": "object"
     },
     "created_at": {
      "type": "string",
      "format": "date-time"
     },
     "last_seen_at": {
      "type": "string",
      "format": "date-time"
     },
     "idle_expires_at": {
      "type": "string",
      "format": "date-time"
     },
     "expires_at": {
      "type": "string",
      "format": "date-time"
     },
     "version": {
      "type": "integer",
      "minimum": 1
     },
     "metadata": {
      "$ref": "#/components/schemas/Metadata"
     }
    }
   },
   "IssuedSession": {
    "type": "object",
    "required": [
     "token",
     "session",
     "set_cookie"
    ],
    "properties": {
     "token": {
      "type": "string",
      "description": "The session token: give it to the browser, never log it."
     },
     "session": {
      "$ref": "#/components/schemas/Session"
     },
     "set_cookie": {
      "type": "string",
      "description": "A ready Set-Cookie header value."
     }
    }
   },
   "CreateSession": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "user_id"
    ],
    "properties": {
     "user_id": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "description": "1-256 bytes of UTF-8 (multi-byte characters count by their bytes)"
     },
     "data": {
      "type": "object",
      "description": "at most 16 KiB serialized (configurable), nesting at most 32 levels"
     },
     "idle_timeout": {
      "type": [
       "integer",
       "null"
      ],
      "minimum": 1,
      "maximum": 86400,
      "description": "seconds; null or absent: the default (1800); at most the configured maximum (default 86400)"
     },
     "absolute_timeout": {
      "type": [
       "integer",
       "null"
      ],
      "minimum": 1,
      "maximum": 2592000,
      "description": "seconds; null or absent: the default (86400); at most the configured maximum (default 2592000)"
     },
     "metadata": {
      "$ref": "#/components/schemas/Metadata"
     }
    }
   },
   "SessionList": {
    "type": "object",
    "required": [
     "sessions"
    ],
    "properties": {
     "sessions": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Session"
      }
     }
    }
   },
   "Destroyed": {
    "type": "object",
    "required": [
     "destroyed"
    ],
    "properties": {
     "destroyed": {
      "type": "integer",
      "minimum": 0
     }
    }
   },
   "Status": {
    "type": "object",
    "required": [
     "status"
    ],
    "properties": {
     "status": {
      "type": "string"
     }
    }
   },
   "Logout": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "destroyed",
     "set_cookie"
    ],
    "properties": {
     "destroyed": {
      "type": "boolean",
      "description": "whether there was a session"
     },
     "set_cookie": {
      "type": "string",
      "description": "a ready Set-Cookie header value that deletes the session cookie (Max-Age=0, same name, Path and Domain as when it was set)"
     }
    }
   },
   "TokenRequest": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "audience"
    ],
    "properties": {
     "audience": {
      "type": "string",
      "description": "One of --token-audiences"
     },
     "ttl": {
      "type": "integer",
      "minimum": 1,
      "maximum": 86400,
      "description": "Lifetime in seconds, at most --token-max-ttl (default --token-ttl); shortened to end by the session's deadlines"
     }
    }
   },
   "TokenResponse": {
    "type": "object",
    "required": [
     "access_token",
     "token_type",
     "expires_in",
     "issued_token_type"
    ],
    "properties": {
     "access_token": {
      "type": "string",
      "description": "JWS compact: header {alg, typ: at+jwt, kid}; claims iss, sub (user id), aud, iat, exp, jti, sid (session handle), client_id (API key name), plus the data members named by --token-claims"
     },
     "token_type": {
      "type": "string",
      "const": "Bearer"
     },
     "expires_in": {
      "type": "integer",
      "minimum": 1
     },
     "issued_token_type": {
      "type": "string",
      "const": "urn:ietf:params:oauth:token-type:jwt"
     }
    }
   },
   "JWKSet": {
    "type": "object",
    "required": [
     "keys"
    ],
    "properties": {
     "keys": {
      "type": "array",
      "items": {
       "type": "object",
       "required": [
        "kty",
        "crv",
        "x",
        "kid",
        "alg",
        "use"
       ],
       "properties": {
        "kty": {
         "enum": [
          "EC",
          "OKP"
         ]
        },
        "crv": {
         "enum": [
          "P-256",
          "Ed25519"
         ]
        },
        "x": {
         "type": "string"
        },
        "y": {
         "type": "string"
        },
        "kid": {
         "type": "string"
        },
        "alg": {
         "enum": [
          "ES256",
          "EdDSA"
         ]
        },
        "use": {
         "const": "sig"
        }
       },
       "additionalProperties": false
      }
     }
    }
   },
   "IntrospectionRequest": {
    "type": "object",
    "required": [
     "token"
    ],
    "properties": {
     "token": {
      "type": "string"
     },
     "token_type_hint": {
      "type": "string",
      "description": "Ignored"
     }
    }
   },
   "Introspection": {
    "oneOf": [
     {
      "type": "object",
      "required": [
       "active"
      ],
      "additionalProperties": false,
      "properties": {
       "active": {
        "const": false
       }
      }
     },
     {
      "type": "object",
      "required": [
       "active",
       "sub",
       "aud",
       "iss",
       "exp",
       "iat",
       "jti",
       "client_id"
      ],
      "properties": {
       "active": {
        "const": true
       },
       "sub": {
        "type": "string"
       },
       "aud": {
        "oneOf": [
         {
          "type": "string"
         },
         {
          "type": "array",
          "items": {
           "type": "string"
          }
         }
        ]
       },
       "iss": {
        "type": "string"
       },
       "exp": {
        "type": "integer"
       },
       "iat": {
        "type": "integer"
       },
       "jti": {
        "type": "string"
       },
       "sid": {
        "type": "string"
       },
       "client_id": {
        "type": "string"
       },
       "token_type": {
        "const": "Bearer"
       },
       "scope": {
        "type": "string"
       }
      }
     }
    ]
   },
   "OAuthError": {
    "type": "object",
    "required": [
     "error",
     "error_description"
    ],
    "additionalProperties": false,
    "properties": {
     "error": {
      "type": "string",
      "enum": [
       "invalid_request",
       "invalid_client",
       "unsupported_grant_type",
       "invalid_scope",
       "unsupported_token_type",
       "unauthorized_client",
       "too_many_requests",
       "forbidden",
       "tokens_not_configured",
       "store_unavailable",
       "signing_key_unavailable",
       "payload_too_large",
       "internal_error",
       "method_not_allowed",
       "not_found"
      ]
     },
     "error_description": {
      "type": "string"
     }
    }
   },
   "ClientTokenRequest": {
    "type": "object",
    "required": [
     "grant_type"
    ],
    "properties": {
     "grant_type": {
      "type": "string",
      "description": "client_credentials"
     },
     "scope": {
      "type": "string",
      "description": "Space-separated subset of the key's scopes (default: all of them)"
     }
    }
   },
   "ClientTokenResponse": {
    "type": "object",
    "required": [
     "access_token",
     "token_type",
     "expires_in",
     "scope"
    ],
    "additionalProperties": false,
    "properties": {
     "access_token": {
      "type": "string",
      "description": "JWS compact, typ at+jwt: iss, aud (= iss), sub = client_id (the key's name), scope, iat, exp, jti"
     },
     "token_type": {
      "type": "string",
      "const": "Bearer"
     },
     "expires_in": {
      "type": "integer",
      "minimum": 1
     },
     "scope": {
      "type": "string"
     }
    }
   },
   "ServerMetadata": {
    "type": "object",
    "required": [
     "issuer",
     "token_endpoint",
     "jwks_uri",
     "introspection_endpoint",
     "revocation_endpoint",
     "grant_types_supported",
     "token_endpoint_auth_methods_supported",
     "scopes_supported"
    ],
    "properties": {
     "issuer": {
      "type": "string"
     },
     "token_endpoint": {
      "type": "string"
     },
     "jwks_uri": {
      "type": "string"
     },
     "introspection_endpoint": {
      "type": "string"
     },
     "revocation_endpoint": {
      "type": "string"
     },
     "grant_types_supported": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "token_endpoint_auth_methods_supported": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "introspection_endpoint_auth_methods_supported": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "revocation_endpoint_auth_methods_supported": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "response_types_supported": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "scopes_supported": {
      "type": "array",
      "items": {
       "type": "string"
      }
     }
    }
   }
  }
 },
 "paths": {
  "/v1/sessions": {
   "post": {
    "operationId": "createSession",
    "summary": "Create a session (scope sessions:create)",
    "security": [
     {
      "bearer": []
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/CreateSession"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/IssuedSession"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request: malformed JSON, nesting deeper than 32, wrong types, unknown fields",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     },
     "413": {
      "description": "payload_too_large",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "415": {
      "description": "unsupported_media_type",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/session": {
   "get": {
    "operationId": "resolveSession",
    "summary": "Resolve the token; slides the idle deadline (scope sessions:read)",
    "security": [
     {
      "bearer": []
     }
    ],
    "parameters": [
     {
      "name": "X-Session-Token",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The session token. Alternatively forward the browser's Cookie header."
     },
     {
      "name": "Cookie",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "A forwarded Cookie header holding the session cookie (name from configuration)."
     }
    ],
    "responses": {
     "200": {
      "description": "The session",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Session"
        }
       }
      },
      "headers": {
       "ETag": {
        "schema": {
         "type": "string"
        },
        "description": "\"<version>\""
       }
      }
     },
     "400": {
      "description": "invalid_request: malformed JSON, nesting deeper than 32, wrong types, unknown fields",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     },
     "404": {
      "description": "session_not_found",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   },
   "patch": {
    "operationId": "updateSession",
    "summary": "JSON merge patch (RFC 7396) of data (scope sessions:write)",
    "security": [
     {
      "bearer": []
     }
    ],
    "parameters": [
     {
      "name": "X-Session-Token",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The session token. Alternatively forward the browser's Cookie header."
     },
     {
      "name": "Cookie",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "A forwarded Cookie header holding the session cookie (name from configuration)."
     },
     {
      "name": "If-Match",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^(\\*|(W/)?(\"[0-9]{1,9}\"|[0-9]{1,9}))$"
      },
      "description": "\"<version>\" (the ETag of the session); a bare number is accepted too"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/merge-patch+json": {
       "schema": {
        "type": "object"
       }
      },
      "application/json": {
       "schema": {
        "type": "object"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "The updated session (version + 1)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Session"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request: malformed JSON, nesting deeper than 32, wrong types, unknown fields",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     },
     "404": {
      "description": "session_not_found",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "409": {
      "description": "conflict",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "412": {
      "description": "version_mismatch",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "payload_too_large",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "415": {
      "description": "unsupported_media_type",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   },
   "delete": {
    "operationId": "destroySession",
    "summary": "Destroy (logout); idempotent (scope sessions:write). Answers the Set-Cookie value that clears the cookie.",
    "security": [
     {
      "bearer": []
     }
    ],
    "parameters": [
     {
      "name": "X-Session-Token",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The session token. Alternatively forward the browser's Cookie header."
     },
     {
      "name": "Cookie",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "A forwarded Cookie header holding the session cookie (name from configuration)."
     }
    ],
    "responses": {
     "200": {
      "description": "Destroyed, or there was none; set_cookie clears the browser's cookie",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Logout"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request: malformed JSON, nesting deeper than 32, wrong types, unknown fields",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     }
    }
   }
  },
  "/v1/session/rotate": {
   "post": {
    "operationId": "rotateSession",
    "summary": "New token for the same session; the old token dies at once (scope sessions:write)",
    "security": [
     {
      "bearer": []
     }
    ],
    "parameters": [
     {
      "name": "X-Session-Token",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The session token. Alternatively forward the browser's Cookie header."
     },
     {
      "name": "Cookie",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "A forwarded Cookie header holding the session cookie (name from configuration)."
     }
    ],
    "responses": {
     "200": {
      "description": "The new token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/IssuedSession"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request: malformed JSON, nesting deeper than 32, wrong types, unknown fields",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     },
     "404": {
      "description": "session_not_found",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/users/{user_id}/sessions": {
   "parameters": [
    {
     "name": "user_id",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256
     },
     "description": "1-256 bytes of UTF-8, percent-encoded"
    }
   ],
   "get": {
    "operationId": "listUserSessions",
    "summary": "The user's live sessions, newest first, without tokens (scope sessions:admin)",
    "security": [
     {
      "bearer": []
     }
    ],
    "responses": {
     "200": {
      "description": "Sessions",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/SessionList"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request: malformed JSON, nesting deeper than 32, wrong types, unknown fields",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     }
    }
   },
   "delete": {
    "operationId": "purgeUserSessions",
    "summary": "Destroy all of the user's sessions (scope sessions:admin)",
    "security": [
     {
      "bearer": []
     }
    ],
    "parameters": [
     {
      "name": "except",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[A-Za-z0-9_-]{36}$"
      },
      "description": "A handle to keep"
     }
    ],
    "responses": {
     "200": {
      "description": "How many were destroyed",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Destroyed"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request: malformed JSON, nesting deeper than 32, wrong types, unknown fields",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     }
    }
   }
  },
  "/v1/sessions/{handle}": {
   "parameters": [
    {
     "name": "handle",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string"
     },
     "description": "a session handle (36 URL-safe base64 characters); anything else is 404"
    }
   ],
   "delete": {
    "operationId": "destroySessionByHandle",
    "summary": "Destroy one session by handle (scope sessions:admin)",
    "security": [
     {
      "bearer": []
     }
    ],
    "responses": {
     "204": {
      "description": "Destroyed"
     },
     "400": {
      "description": "invalid_request: malformed JSON, nesting deeper than 32, wrong types, unknown fields",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     },
     "404": {
      "description": "session_not_found",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/healthz": {
   "get": {
    "operationId": "health",
    "summary": "Alive",
    "responses": {
     "200": {
      "description": "Alive",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Status"
        }
       }
      }
     }
    }
   }
  },
  "/readyz": {
   "get": {
    "operationId": "ready",
    "summary": "Ready: the store answers",
    "responses": {
     "200": {
      "description": "Ready",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Status"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     }
    }
   }
  },
  "/metrics": {
   "get": {
    "operationId": "metrics",
    "summary": "Prometheus metrics",
    "responses": {
     "200": {
      "description": "Prometheus text format",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     }
    }
   }
  },
  "/openapi.json": {
   "get": {
    "operationId": "openapi",
    "summary": "This document",
    "responses": {
     "200": {
      "description": "OpenAPI 3.1",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     }
    }
   }
  },
  "/v1/session/token": {
   "post": {
    "operationId": "exchangeSession",
    "summary": "Exchange the session for a short-lived signed access token (RFC 9068 JWT); slides the idle deadline like a resolve (scope tokens:issue)",
    "security": [
     {
      "bearer": []
     }
    ],
    "parameters": [
     {
      "name": "X-Session-Token",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The session token. Alternatively forward the browser's Cookie header."
     },
     {
      "name": "Cookie",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "A forwarded Cookie header holding the session cookie (name from configuration)."
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/TokenRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "The access token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/TokenResponse"
        }
       }
      },
      "headers": {
       "Cache-Control": {
        "schema": {
         "type": "string",
         "const": "no-store"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request: an audience not in --token-audiences, a ttl outside 1…--token-max-ttl, a malformed body",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout; signing_key_unavailable: no signing key inside its window",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     },
     "404": {
      "description": "session_not_found: no valid session; tokens_not_configured: sessiond runs without --signing-keys-file",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "413": {
      "description": "payload_too_large: the body exceeds 4096 bytes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "415": {
      "description": "unsupported_media_type: the body must be application/json",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/v1/auth": {
   "get": {
    "operationId": "forwardAuth",
    "summary": "Forward-auth for gateways (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz, Caddy forward_auth): the forwarded Cookie becomes Authorization: Bearer <jwt> (scope tokens:issue)",
    "security": [
     {
      "bearer": []
     }
    ],
    "parameters": [
     {
      "name": "audience",
      "in": "query",
      "required": true,
      "schema": {
       "type": "string",
       "minLength": 1
      },
      "description": "One of --token-audiences: the service behind the gateway."
     },
     {
      "name": "X-Session-Token",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "The session token. Alternatively forward the browser's Cookie header."
     },
     {
      "name": "Cookie",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "A forwarded Cookie header holding the session cookie (name from configuration)."
     }
    ],
    "responses": {
     "200": {
      "description": "A valid session: the token is in the Authorization header; the body is empty",
      "headers": {
       "Authorization": {
        "schema": {
         "type": "string",
         "pattern": "^Bearer "
        },
        "description": "Bearer <access token>"
       },
       "Cache-Control": {
        "schema": {
         "type": "string",
         "const": "no-store"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request: no audience, or one not in --token-audiences",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "401": {
      "description": "unauthorized: missing or unknown API key, or an access token that is invalid, expired or revoked; session_not_found: no valid session (the gateway refuses the request)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "403": {
      "description": "forbidden: the key lacks the scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: Redis unreachable or slower than the command timeout; signing_key_unavailable: no signing key inside its window",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "description": "Seconds to wait before retrying (the store may be failing over)",
        "schema": {
         "type": "integer"
        }
       }
      }
     },
     "404": {
      "description": "tokens_not_configured: sessiond runs without --signing-keys-file",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/.well-known/jwks.json": {
   "get": {
    "operationId": "jwks",
    "summary": "The published public signing keys (RFC 7517); no authentication",
    "security": [],
    "parameters": [
     {
      "name": "If-None-Match",
      "in": "header",
      "required": false,
      "schema": {
       "type": "string"
      },
      "description": "An ETag from an earlier answer: 304 while the set is unchanged."
     }
    ],
    "responses": {
     "200": {
      "description": "The key set",
      "content": {
       "application/jwk-set+json": {
        "schema": {
         "$ref": "#/components/schemas/JWKSet"
        }
       }
      },
      "headers": {
       "Cache-Control": {
        "schema": {
         "type": "string"
        },
        "description": "public, max-age=<--jwks-max-age>"
       },
       "ETag": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "304": {
      "description": "Not modified",
      "headers": {
       "ETag": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "404": {
      "description": "tokens_not_configured: sessiond runs without --signing-keys-file",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      }
     }
    }
   }
  },
  "/oauth2/introspect": {
   "post": {
    "operationId": "introspect",
    "summary": "Token introspection (RFC 7662) for session and client-credentials tokens; 503 (never inactive) when it cannot check (scope tokens:introspect; HTTP Basic or Bearer)",
    "security": [
     {
      "basic": []
     },
     {
      "bearer": []
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/x-www-form-urlencoded": {
       "schema": {
        "$ref": "#/components/schemas/IntrospectionRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "The token's state",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Introspection"
        }
       }
      },
      "headers": {
       "Cache-Control": {
        "schema": {
         "type": "string",
         "const": "no-store"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request: no token, a repeated parameter, a malformed form or another media type",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "401": {
      "description": "invalid_client: no, malformed or wrong client authentication (the same answer whether or not the client exists)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      },
      "headers": {
       "WWW-Authenticate": {
        "schema": {
         "type": "string"
        },
        "description": "Basic realm=\"sessiond\""
       }
      }
     },
     "403": {
      "description": "forbidden: the caller lacks tokens:introspect",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "503": {
      "description": "store_unavailable: the session store or the deny-list cannot be read",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "schema": {
         "type": "integer"
        }
       }
      }
     },
     "404": {
      "description": "tokens_not_configured: sessiond runs without --signing-keys-file",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "413": {
      "description": "payload_too_large: the body exceeds 16384 bytes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "429": {
      "description": "too_many_requests: 10 failed authentications within a minute for this client id or this source address",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "schema": {
         "type": "integer"
        },
        "description": "Seconds to wait"
       }
      }
     }
    }
   }
  },
  "/oauth2/token": {
   "post": {
    "operationId": "clientCredentialsToken",
    "summary": "OAuth 2.0 client credentials grant (RFC 6749 §4.4): an access token for an API key, authenticated with HTTP Basic",
    "security": [
     {
      "basic": []
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/x-www-form-urlencoded": {
       "schema": {
        "$ref": "#/components/schemas/ClientTokenRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "The access token",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ClientTokenResponse"
        }
       }
      },
      "headers": {
       "Cache-Control": {
        "schema": {
         "type": "string",
         "const": "no-store"
        }
       },
       "Pragma": {
        "schema": {
         "type": "string",
         "const": "no-cache"
        }
       }
      }
     },
     "400": {
      "description": "invalid_request (no grant_type, client credentials in the body, another media type, a repeated parameter); unsupported_grant_type (anything but client_credentials: password and authorization_code included); invalid_scope",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "401": {
      "description": "invalid_client: no, malformed or wrong client authentication (the same answer whether or not the client exists)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      },
      "headers": {
       "WWW-Authenticate": {
        "schema": {
         "type": "string"
        },
        "description": "Basic realm=\"sessiond\""
       }
      }
     },
     "404": {
      "description": "tokens_not_configured: sessiond runs without --signing-keys-file",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "413": {
      "description": "payload_too_large: the body exceeds 16384 bytes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "429": {
      "description": "too_many_requests: 10 failed authentications within a minute for this client id or this source address",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "schema": {
         "type": "integer"
        },
        "description": "Seconds to wait"
       }
      }
     },
     "503": {
      "description": "store_unavailable: the counters or the deny-list cannot be read or written (never a token without its checks)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "schema": {
         "type": "integer"
        }
       }
      }
     }
    }
   }
  },
  "/oauth2/revoke": {
   "post": {
    "operationId": "revokeToken",
    "summary": "Token revocation (RFC 7009): a client revokes its own client-credentials token, a caller with sessions:admin any; refused by every replica at once",
    "security": [
     {
      "basic": []
     },
     {
      "bearer": []
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/x-www-form-urlencoded": {
       "schema": {
        "$ref": "#/components/schemas/IntrospectionRequest"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Revoked, or unknown or invalid (nothing to revoke); the body is empty"
     },
     "400": {
      "description": "invalid_request: no token; unsupported_token_type: a session access token (it ends with its session)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "403": {
      "description": "unauthorized_client: the token was issued to another client and the caller lacks sessions:admin",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "401": {
      "description": "invalid_client: no, malformed or wrong client authentication (the same answer whether or not the client exists)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      },
      "headers": {
       "WWW-Authenticate": {
        "schema": {
         "type": "string"
        },
        "description": "Basic realm=\"sessiond\""
       }
      }
     },
     "404": {
      "description": "tokens_not_configured: sessiond runs without --signing-keys-file",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "413": {
      "description": "payload_too_large: the body exceeds 16384 bytes",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     },
     "429": {
      "description": "too_many_requests: 10 failed authentications within a minute for this client id or this source address",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "schema": {
         "type": "integer"
        },
        "description": "Seconds to wait"
       }
      }
     },
     "503": {
      "description": "store_unavailable: the counters or the deny-list cannot be read or written (never a token without its checks)",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      },
      "headers": {
       "Retry-After": {
        "schema": {
         "type": "integer"
        }
       }
      }
     }
    }
   }
  },
  "/.well-known/oauth-authorization-server": {
   "get": {
    "operationId": "authorizationServerMetadata",
    "summary": "Authorization server metadata (RFC 8414); no authentication",
    "security": [],
    "responses": {
     "200": {
      "description": "The metadata",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/ServerMetadata"
        }
       }
      }
     },
     "404": {
      "description": "tokens_not_configured: sessiond runs without --signing-keys-file",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/OAuthError"
        }
       }
      }
     }
    }
   }
  }
 }
}
"""#
}
