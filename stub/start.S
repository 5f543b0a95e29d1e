/* start.S - the stub's entry point: glibc's own (Scrt1.o) calls
 * __libc_start_main@GLIBC_2.34, which no glibc before 2.34 has; this one
 * calls the GLIBC_2.2.5 version, which every glibc has (compat.h).  The
 * x86-64 ELF ABI's start: the kernel leaves argc, argv and envp on the
 * stack and the dynamic loader's finalizer in %rdx. */
#if defined(__x86_64__)
    .text
    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp
    movq %rdx, %r9              /* rtld_fini */
    popq %rsi                   /* argc */
    movq %rsp, %rdx             /* argv */
    andq $-16, %rsp
    pushq %rax
    pushq %rsp                  /* stack_end */
    xorl %r8d, %r8d             /* fini: none */
    xorl %ecx, %ecx             /* init: none (the stub has no constructors) */
    leaq main(%rip), %rdi
    call *bundle_libc_start_main@GOTPCREL(%rip)
    hlt
    .size _start, .-_start
    .symver bundle_libc_start_main, __libc_start_main@GLIBC_2.2.5

    /* what crtbegin.o would define: the handle atexit() passes */
    .data
    .balign 8
    .globl __dso_handle
    .hidden __dso_handle
__dso_handle:
    .quad __dso_handle

    .section .note.GNU-stack, "", @progbits
#endif
