# -Wall -Wextra everywhere; -Werror when FS_WERROR is on (tests/run and CI turn it on).
option(FS_WERROR "Treat warnings as errors" OFF)
function(fs_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter
                         -Wshadow -Wstrict-prototypes -D_GNU_SOURCE)
  if(FS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
