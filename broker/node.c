/* Shared node state; see node.h. */
#include "broker/node.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t align_up(uint64_t v, uint64_t a) {
    return (v + a - 1) & ~(a - 1);
}

static void node_reset(br_node *node) {
    memset(node, 0, sizeof *node);
    node->memfd = -1;
    for (uint32_t w = 0; w < BR_MAX_WORKERS; w++) node->doorbell[w] = -1;
}

int br_node_create(br_node *node, uint32_t nworkers, uint32_t extra, uint64_t ring_size) {
    node_reset(node);
    uint32_t nmembers = nworkers + extra;
    if (nworkers == 0 || nmembers > BR_MAX_WORKERS) return -EINVAL;
    uint64_t rings_off = align_up(sizeof(br_node_shm), 4096);
    uint64_t stride = align_up(nx_ring_bytes(ring_size), 4096);
    uint64_t nrings = (uint64_t)nmembers * (nmembers - 1);
    size_t total = (size_t)(rings_off + nrings * stride);
    int fd = memfd_create("nats-node", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    if (ftruncate(fd, (off_t)total) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    void *mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) {
        int e = errno;
        close(fd);
        return -e;
    }
    node->shm = mem;
    node->shm_bytes = total;
    node->memfd = fd;
    br_node_shm *s = node->shm;
    s->magic = BR_NODE_MAGIC;
    s->nworkers = nworkers;
    s->nmembers = nmembers;
    s->ring_size = ring_size;
    s->ring_stride = stride;
    s->rings_offset = rings_off;
    for (uint32_t w = 0; w < nmembers; w++) {
        /* CLOEXEC is harmless: workers are forked, not exec'd, so they inherit the fd. */
        node->doorbell[w] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (node->doorbell[w] < 0) return -errno;
    }
    for (uint32_t i = 0; i < nmembers; i++)
        for (uint32_t j = 0; j < nmembers; j++)
            if (i != j) nx_ring_format(br_node_ring_mem(node, i, j), ring_size);
    return 0;
}

void br_node_destroy(br_node *node) {
    for (uint32_t w = 0; w < BR_MAX_WORKERS; w++)
        if (node->doorbell[w] >= 0) close(node->doorbell[w]);
    if (node->shm) munmap(node->shm, node->shm_bytes);
    if (node->memfd >= 0) close(node->memfd);
    node_reset(node);
}

int br_node_attach(br_node *node, int memfd, const int *doorbells, uint32_t n) {
    node_reset(node);
    node->memfd = memfd;
    for (uint32_t w = 0; w < n && w < BR_MAX_WORKERS; w++) node->doorbell[w] = doorbells[w];
    struct stat st;
    if (fstat(memfd, &st) < 0 || st.st_size < (off_t)sizeof(br_node_shm)) {
        br_node_destroy(node);
        return -EPROTO;
    }
    void *mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (mem == MAP_FAILED) {
        int e = errno;
        br_node_destroy(node);
        return -e;
    }
    node->shm = mem;
    node->shm_bytes = (size_t)st.st_size;
    const br_node_shm *s = node->shm;
    /* Check the layout before trusting any offset in it. */
    if (s->magic != BR_NODE_MAGIC || s->nworkers == 0 || s->nmembers > BR_MAX_WORKERS ||
        s->nworkers > s->nmembers || s->nmembers != n ||
        s->rings_offset + (uint64_t)s->nmembers * (s->nmembers - 1) * s->ring_stride >
            node->shm_bytes) {
        br_node_destroy(node);
        return -EPROTO;
    }
    return 0;
}

void *br_node_ring_mem(const br_node *node, uint32_t from, uint32_t to) {
    const br_node_shm *s = node->shm;
    /* Rings are numbered row by row, skipping the diagonal (no ring to oneself). */
    uint64_t idx = (uint64_t)from * (s->nmembers - 1) + (to < from ? to : to - 1);
    return (uint8_t *)node->shm + s->rings_offset + idx * s->ring_stride;
}

void br_node_kick(const br_node *node, uint32_t w) {
    br_worker_slot *slot = &node->shm->workers[w];
    /* Pairs with the worker's store of `sleeping` then re-check of its rings (both seq_cst):
     * either it sees our record, or we see it sleeping and wake it. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&slot->sleeping)) {
        uint64_t one = 1;
        ssize_t n = write(node->doorbell[w], &one, sizeof one);
        (void)n; /* EAGAIN means the counter is already non-zero: it will wake anyway */
    }
}

static uint64_t name_hash(const char *name, size_t len) { /* FNV-1a, never 0 */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
    return h ? h : 1;
}

int br_node_acc_slot(br_node *node, const char *name, size_t len) {
    uint64_t h = name_hash(name, len);
    for (uint32_t k = 0; k < BR_NODE_ACC_SLOTS; k++) {
        uint32_t i = (uint32_t)((h + k) % BR_NODE_ACC_SLOTS);
        uint64_t cur = atomic_load(&node->shm->acc_hash[i]);
        if (cur == h) return (int)i;
        if (cur == 0) {
            uint64_t zero = 0;
            if (atomic_compare_exchange_strong(&node->shm->acc_hash[i], &zero, h) || zero == h)
                return (int)i;
        }
    }
    return -1;
}

int32_t br_node_acc_clients(const br_node *node, int slot) {
    int32_t n = 0;
    for (uint32_t w = 0; w < node->shm->nworkers; w++)
        if (atomic_load(&node->shm->workers[w].pid) != 0)
            n += atomic_load(&node->shm->workers[w].acc_clients[slot]);
    return n;
}

int32_t br_node_num_clients(const br_node *node) {
    int32_t n = 0;
    for (uint32_t w = 0; w < node->shm->nworkers; w++)
        n += atomic_load(&node->shm->workers[w].num_clients);
    return n;
}
