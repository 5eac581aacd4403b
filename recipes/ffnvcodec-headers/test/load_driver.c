/* The loader in dynlink_loader.h finds NVIDIA's driver at run time, as FFmpeg's
 * NVENC/NVDEC/CUVID code does. It must agree with dlopen: fail cleanly (and free
 * what it allocated) where the driver is absent, load every symbol where it is. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <ffnvcodec/dynlink_loader.h>

/* The loader #undefs its library names; these are the Linux ones it loads. */
#define CUDA_LIBRARY "libcuda.so.1"
#define NVENC_LIBRARY "libnvidia-encode.so.1"

static int has_library(const char *name)
{
    void *handle = dlopen(name, RTLD_LAZY);
    if (handle)
        dlclose(handle);
    return handle != NULL;
}

int main(void)
{
    CudaFunctions *cuda = NULL;
    NvencFunctions *nvenc = NULL;
    int cuda_ret = cuda_load_functions(&cuda, NULL);
    int nvenc_ret = nvenc_load_functions(&nvenc, NULL);
    int has_cuda = has_library(CUDA_LIBRARY), has_nvenc = has_library(NVENC_LIBRARY);

    printf("%s: %s; %s: %s\n", CUDA_LIBRARY, has_cuda ? "found" : "absent",
           NVENC_LIBRARY, has_nvenc ? "found" : "absent");
    if ((cuda_ret == 0) != has_cuda || (nvenc_ret == 0) != has_nvenc) {
        fprintf(stderr, "the loader disagrees with dlopen (cuda %d, nvenc %d)\n", cuda_ret, nvenc_ret);
        return 1;
    }
    if ((!has_cuda && cuda) || (!has_nvenc && nvenc)) {
        fprintf(stderr, "a failed load left its function table allocated\n");
        return 1;
    }
    if (has_cuda && !cuda->cuInit) {
        fprintf(stderr, "the driver loaded without cuInit\n");
        return 1;
    }
    cuda_free_functions(&cuda);
    nvenc_free_functions(&nvenc);
    return 0;
}
