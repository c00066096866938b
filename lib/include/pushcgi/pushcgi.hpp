// Everything a pushcgi program needs.
#pragma once

#include "pushcgi/client_pull.hpp"
#include "pushcgi/error.hpp"
#include "pushcgi/event_stream.hpp"
#include "pushcgi/header.hpp"
#include "pushcgi/log.hpp"
#include "pushcgi/multipart.hpp"
#include "pushcgi/multipart_stream.hpp"
#include "pushcgi/options.hpp"
#include "pushcgi/query.hpp"
#include "pushcgi/request.hpp"
#include "pushcgi/response.hpp"
#include "pushcgi/router.hpp"
#include "pushcgi/server.hpp"
#include "pushcgi/sink.hpp"
#include "pushcgi/sse.hpp"
#include "pushcgi/wait.hpp"
