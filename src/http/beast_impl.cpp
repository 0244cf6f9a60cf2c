// The one translation unit that compiles Asio and Beast (BOOST_*_SEPARATE_COMPILATION): build time matters on 2 cores.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
