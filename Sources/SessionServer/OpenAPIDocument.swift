// Generated from docs/openapi.json by scripts/gen-openapi.sh; a test checks they match.
enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "sessiond",
  "version": "1.0.0",
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
    "scheme": "bearer"
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
         "internal_error"
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
      "description": "unauthorized: missing or unknown API key",
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
      "description": "unauthorized: missing or unknown API key",
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
      "description": "unauthorized: missing or unknown API key",
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
      "description": "unauthorized: missing or unknown API key",
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
      "description": "unauthorized: missing or unknown API key",
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
      "description": "unauthorized: missing or unknown API key",
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
      "description": "unauthorized: missing or unknown API key",
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
      "description": "unauthorized: missing or unknown API key",
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
  }
 }
}
"""#
}
