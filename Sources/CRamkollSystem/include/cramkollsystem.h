// Constants Swift's Glibc module does not export (they sit behind _GNU_SOURCE).
#ifndef RAMKOLL_CRAMKOLLSYSTEM_H
#define RAMKOLL_CRAMKOLLSYSTEM_H

/// O_DIRECT for open(2)/fcntl(2): the platform's value, 0 where there is none.
int ramkoll_o_direct(void);

#endif
