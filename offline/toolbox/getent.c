/*
 * getent — the hosts databases of Alpine's getent (musl-utils), for the toolbox stand-in.
 *
 *   getent hosts NAME...     one line per NAME: "ADDR  NAME"; IPv6 is asked first, then IPv4
 *                            (as musl-utils' getent does, through gethostbyname2)
 *   getent ahosts NAME...    every address getaddrinfo returns: "ADDR  SOCKTYPE NAME"
 *   getent ahostsv4 NAME...  the same, IPv4 only
 *   getent ahostsv6 NAME...  the same, IPv6 only
 *
 * Exit status as musl-utils': 0 found, 1 usage, 2 a NAME was not found.
 * Built statically with musl-gcc, so it resolves with musl's resolver like Alpine's.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

enum { FOUND = 0, USAGE = 1, NOT_FOUND = 2 };

static int usage(void)
{
	fputs("Usage: getent hosts|ahosts|ahostsv4|ahostsv6 NAME...\n", stderr);
	return USAGE;
}

/* hosts NAME: the first address of NAME, IPv6 before IPv4. */
static int hosts(const char *name)
{
	char buf[INET6_ADDRSTRLEN];
	struct hostent *he = gethostbyname2(name, AF_INET6);

	if (he == NULL)
		he = gethostbyname2(name, AF_INET);
	if (he == NULL || he->h_addr_list[0] == NULL)
		return NOT_FOUND;
	if (inet_ntop(he->h_addrtype, he->h_addr_list[0], buf, sizeof(buf)) == NULL)
		return NOT_FOUND;
	printf("%-16s  %s\n", buf, he->h_name);
	return FOUND;
}

static const char *socktype(int type)
{
	switch (type) {
	case SOCK_STREAM: return "STREAM";
	case SOCK_DGRAM: return "DGRAM";
	case SOCK_RAW: return "RAW";
	default: return "?";
	}
}

/* ahosts FAMILY NAME: every address of NAME in FAMILY (AF_UNSPEC: both). */
static int ahosts(int family, const char *name)
{
	struct addrinfo hint, *res, *r;
	char buf[INET6_ADDRSTRLEN];
	const void *addr;

	memset(&hint, 0, sizeof(hint));
	hint.ai_family = family;
	hint.ai_flags = AI_ADDRCONFIG | AI_CANONNAME;
	if (getaddrinfo(name, NULL, &hint, &res) != 0)
		return NOT_FOUND;
	for (r = res; r != NULL; r = r->ai_next) {
		if (r->ai_family == AF_INET)
			addr = &((struct sockaddr_in *)r->ai_addr)->sin_addr;
		else if (r->ai_family == AF_INET6)
			addr = &((struct sockaddr_in6 *)r->ai_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(r->ai_family, addr, buf, sizeof(buf)) != NULL)
			printf("%-15s %-6s %s\n", buf, socktype(r->ai_socktype),
			       r->ai_canonname ? r->ai_canonname : "");
	}
	freeaddrinfo(res);
	return FOUND;
}

static int lookup(const char *db, const char *name)
{
	if (strcmp(db, "hosts") == 0)
		return hosts(name);
	if (strcmp(db, "ahosts") == 0)
		return ahosts(AF_UNSPEC, name);
	if (strcmp(db, "ahostsv4") == 0)
		return ahosts(AF_INET, name);
	if (strcmp(db, "ahostsv6") == 0)
		return ahosts(AF_INET6, name);
	return USAGE;
}

int main(int argc, char *argv[])
{
	int i, rc;

	if (argc < 3)
		return usage();
	for (i = 2; i < argc; i++) {
		rc = lookup(argv[1], argv[i]);
		if (rc == USAGE)
			return usage();
		if (rc != FOUND)
			return rc;
	}
	return FOUND;
}
